// Advance Loop Clock (command palette, Event Loop view title): move a frozen or virtual loop
// clock forward while paused, so that timers come due without waiting for them.
import * as vscode from 'vscode';
import { COMMANDS } from '../contributionIds';
import { customRequest } from '../views/sessionModel';
import { parseSeconds } from './duration';

export function registerAdvanceClock(): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.advanceClock, async () => {
    const session = vscode.debug.activeDebugSession;
    if (!session || session.type !== 'loopscope') {
      void vscode.window.showInformationMessage('Advance Loop Clock works in a paused Loopscope debug session.');
      return;
    }
    const text = await vscode.window.showInputBox({
      title: 'Advance Loop Clock', prompt: 'Move loop.time() forward by (seconds; 90s, 2m and 250ms work too)',
      validateInput: (value) => (typeof parseSeconds(value) === 'string' ? (parseSeconds(value) as string) : undefined),
    });
    if (text === undefined) return;
    try {
      const body = await customRequest(session, 'loopscope/advanceClock', { seconds: parseSeconds(text) as number });
      vscode.window.setStatusBarMessage(`Loop clock now at t=${body.time.toFixed(3)}`, 4000);
    } catch (error) {
      void vscode.window.showErrorMessage(`Advance Loop Clock: ${(error as Error).message}`);
    }
  });
}
