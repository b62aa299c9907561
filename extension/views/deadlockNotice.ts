// Says so when a Loopscope session reports a deadlock as it happens (the DAP event
// loopscope/deadlock: a loop that would wait for ever, a lock-order inversion): a warning
// notification offering Pause and the Asyncio Tasks view, so a program stuck for ever is not silent.
import * as vscode from 'vscode';
import type { DapEventExtensions } from '../adapter/protocol';
import { VIEWS } from '../contributionIds';
import { deadlockNoticeText } from './tasksTree';

const PAUSE = 'Pause';
const SHOW_TASKS = 'Show Asyncio Tasks';

/** One notice per session at a time: what else is found meanwhile (the same deadlock seen as a lock
 * cycle and as a lock-order inversion) is in the Debug Console already. */
export function registerDeadlockNotices(): vscode.Disposable {
  const showing = new Set<string>();
  return vscode.debug.onDidReceiveDebugSessionCustomEvent(async (event) => {
    if (event.session.type !== 'loopscope' || event.event !== 'loopscope/deadlock' || showing.has(event.session.id)) return;
    const body = event.body as DapEventExtensions['loopscope/deadlock'];
    const stuck = body.deadlock.kind !== 'lockOrderInversion';
    // With the Deadlock filter ticked the program stops there by itself: nothing to pause.
    const actions = stuck ? (body.stops ? [SHOW_TASKS] : [PAUSE, SHOW_TASKS]) : [];
    showing.add(event.session.id);
    let choice: string | undefined;
    try {
      choice = await vscode.window.showWarningMessage(deadlockNoticeText(body.deadlock), ...actions);
    } finally {
      showing.delete(event.session.id);
    }
    if (choice === PAUSE) await vscode.commands.executeCommand('workbench.action.debug.pause');
    if (choice === PAUSE || choice === SHOW_TASKS) await vscode.commands.executeCommand(`${VIEWS.tasks}.focus`);
  });
}
