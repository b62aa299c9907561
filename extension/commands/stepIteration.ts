// Step Loop Iteration (debug toolbar and command palette): run exactly one iteration of the event
// loop of the selected thread (a loop or one of its tasks) and stop again.
import * as vscode from 'vscode';
import { COMMANDS } from '../contributionIds';
import { customRequest } from '../views/sessionModel';

export function registerStepIteration(): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.stepIteration, async () => {
    const selected = vscode.debug.activeStackItem;
    const session = selected?.session.type === 'loopscope' ? selected.session : vscode.debug.activeDebugSession;
    if (!session || session.type !== 'loopscope') {
      void vscode.window.showInformationMessage('Step Loop Iteration works in a paused Loopscope debug session.');
      return;
    }
    // Without a selected thread the adapter steps the loop that stopped last.
    const args = selected && selected.session.id === session.id ? { threadId: selected.threadId } : {};
    try {
      await customRequest(session, 'loopscope/stepIteration', args);
    } catch (error) {
      void vscode.window.showErrorMessage(`Step Loop Iteration failed: ${(error as Error).message}`);
    }
  });
}
