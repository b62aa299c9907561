// Says so when a Loopscope session reports a deadlock as it happens (the DAP event
// loopscope/deadlock: a loop that would wait for ever, a lock-order inversion): a warning
// notification offering Pause and the Asyncio Tasks view, so a program stuck for ever is not silent.
import * as vscode from 'vscode';
import type { DapEventExtensions } from '../adapter/protocol';
import { VIEWS } from '../contributionIds';
import { deadlockNoticeText } from './tasksTree';

const PAUSE = 'Pause';
const SHOW_TASKS = 'Show Asyncio Tasks';

export function registerDeadlockNotices(): vscode.Disposable {
  return vscode.debug.onDidReceiveDebugSessionCustomEvent(async (event) => {
    if (event.session.type !== 'loopscope' || event.event !== 'loopscope/deadlock') return;
    const body = event.body as DapEventExtensions['loopscope/deadlock'];
    const stuck = body.deadlock.kind !== 'lockOrderInversion';
    const choice = await vscode.window.showWarningMessage(deadlockNoticeText(body.deadlock), ...(stuck ? [PAUSE, SHOW_TASKS] : []));
    if (choice === PAUSE) await vscode.commands.executeCommand('workbench.action.debug.pause');
    if (choice === PAUSE || choice === SHOW_TASKS) await vscode.commands.executeCommand(`${VIEWS.tasks}.focus`);
  });
}
