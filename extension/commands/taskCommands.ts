// The context-menu commands on a task row (Asyncio Tasks, and the tasks listed in Futures and
// Event Loop): Cancel Task, Break When This Task Resumes, Copy Stack.
import * as vscode from 'vscode';
import type { TaskSnapshot } from '../adapter/protocol';
import { COMMANDS } from '../contributionIds';
import { LoopscopeSessions } from '../views/sessions';
import { awaitChainText } from '../views/tasksTree';
import { TasksView } from '../views/tasksView';
import { ViewItem } from '../views/viewItem';

export function registerTaskCommands(sessions: LoopscopeSessions, tasksView: TasksView): vscode.Disposable[] {
  /** The row the command was run on, else the row selected in Asyncio Tasks. */
  const taskIdOf = (item: ViewItem | undefined): number | undefined => (item ?? tasksView.view.selection[0])?.taskId;

  return [
    vscode.commands.registerCommand(COMMANDS.cancelTask, async (item?: ViewItem) => {
      const model = sessions.active;
      const taskId = taskIdOf(item);
      if (!model || taskId === undefined) return pickATask();
      try {
        // The views refresh when the tracker sees the answer (sessionPhase.ts).
        await model.request('loopscope/cancelTask', { taskId });
      } catch (error) {
        void vscode.window.showErrorMessage(`Could not cancel the task: ${(error as Error).message}`);
      }
    }),

    vscode.commands.registerCommand(COMMANDS.breakOnTask, async (item?: ViewItem) => {
      const task = await taskOf(sessions, taskIdOf(item));
      if (!task) return pickATask();
      const existing = vscode.debug.breakpoints.find((b) => b instanceof vscode.FunctionBreakpoint && b.functionName === task.name);
      if (existing) {
        if (!existing.enabled) {
          vscode.debug.removeBreakpoints([existing]);
          vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(task.name, true, existing.condition, existing.hitCondition)]);
        }
      } else {
        vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint(task.name)]);
      }
      // The breakpoint shows in the Breakpoints view; a passing note is enough.
      vscode.window.setStatusBarMessage(`$(debug-breakpoint-function) Loopscope stops when task ${task.name} is about to resume`, 5000);
    }),

    vscode.commands.registerCommand(COMMANDS.copyStack, async (item?: ViewItem) => {
      const task = await taskOf(sessions, taskIdOf(item));
      if (!task) return pickATask();
      await vscode.env.clipboard.writeText(awaitChainText(task));
    }),
  ];
}

/** The task with this id in the active session's current snapshot. */
async function taskOf(sessions: LoopscopeSessions, taskId: number | undefined): Promise<TaskSnapshot | undefined> {
  if (taskId === undefined) return undefined;
  const fetched = await sessions.active?.snapshot();
  return fetched && 'value' in fetched ? fetched.value.tasks.get(taskId)?.task : undefined;
}

function pickATask(): void {
  void vscode.window.showInformationMessage('Select a task in the Asyncio Tasks view of a paused Loopscope session first.');
}
