// The context-menu commands on a task row (Asyncio Tasks, Task Switches, and the tasks listed in
// Futures and Event Loop): Cancel Task, Break When This Task Resumes, Copy Stack.
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
        // The views refresh when the tracker sees the answer (sessionPhase.ts); the adapter says in the
        // Debug Console that the task is cancelling.
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
      const lines = await sourceLines(task);
      await vscode.env.clipboard.writeText(awaitChainText(task, (path, line) => lines.get(path)?.[line - 1]));
    }),
  ];
}

/** The task with this id, as the runtime describes it now. */
async function taskOf(sessions: LoopscopeSessions, taskId: number | undefined): Promise<TaskSnapshot | undefined> {
  const model = sessions.active;
  if (taskId === undefined || !model) return undefined;
  const fetched = await model.tasks({ ids: [taskId] });
  return fetched && 'value' in fetched ? fetched.value.tasks?.[0] : undefined;
}

/** The lines of each file in the task's await chain, for a traceback with source text. */
async function sourceLines(task: TaskSnapshot): Promise<Map<string, string[]>> {
  const lines = new Map<string, string[]>();
  for (const path of new Set(task.stack.map((f) => f.path).filter((p): p is string => !!p))) {
    try {
      lines.set(path, Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(path))).toString('utf8').split('\n'));
    } catch { /* a file that is gone: the traceback shows no text for it */ }
  }
  return lines;
}

function pickATask(): void {
  void vscode.window.showInformationMessage('Select a task in the Asyncio Tasks view of a paused Loopscope session first.');
}
