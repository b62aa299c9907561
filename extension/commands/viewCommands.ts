// Commands of the Loopscope views themselves: filter the tasks, refresh, show more of a long list,
// open the source line of a row.
import * as vscode from 'vscode';
import type { Location } from '../adapter/protocol';
import { COMMANDS } from '../contributionIds';
import { LoopscopeSessions } from '../views/sessions';
import { TASK_SORTS, TaskSort } from '../views/stepStatsText';
import { TasksView } from '../views/tasksView';

export function registerViewCommands(sessions: LoopscopeSessions, tasksView: TasksView,
  views: readonly { viewId: string; showMore(listId: string): void }[]): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMANDS.filterTasks, async () => {
      const filter = await vscode.window.showInputBox({
        title: 'Filter Asyncio Tasks',
        prompt: 'Show the tasks whose name or coroutine contains this text (any case). Leave empty to show all.',
        placeHolder: 'e.g. consumer',
        value: tasksView.filter ?? '',
      });
      if (filter !== undefined) tasksView.setFilter(filter.trim());
    }),

    vscode.commands.registerCommand(COMMANDS.clearTaskFilter, () => tasksView.setFilter(undefined)),

    vscode.commands.registerCommand(COMMANDS.sortTasks, async () => {
      const picked = await vscode.window.showQuickPick(
        (Object.entries(TASK_SORTS) as [TaskSort, { label: string; detail: string }][]).map(([sort, { label, detail }]) => ({
          label, detail, sort, picked: sort === tasksView.sort,
        })),
        { title: 'Sort Asyncio Tasks', placeHolder: 'By step statistics (set "stepStatistics": "tasks" in launch.json to measure them)' },
      );
      if (picked) tasksView.setSort(picked.sort);
    }),

    vscode.commands.registerCommand(COMMANDS.refreshViews, () => sessions.active?.phase.refresh()),

    vscode.commands.registerCommand(COMMANDS.showMore, (viewId: string, listId: string) => {
      views.find((view) => view.viewId === viewId)?.showMore(listId);
    }),

    vscode.commands.registerCommand(COMMANDS.showLocation, async (where: Location) => {
      const line = Math.max(where.line - 1, 0);
      try {
        await vscode.window.showTextDocument(vscode.Uri.file(where.path), {
          selection: new vscode.Range(line, 0, line, 0), preserveFocus: true, preview: true,
        });
      } catch (error) {
        void vscode.window.showWarningMessage(`Cannot open ${where.path}: ${(error as Error).message}`);
      }
    }),
  ];
}
