// Commands of the Loopscope views themselves: filter and group the tasks, filter the futures,
// refresh, show more of a long list, open the source line of a row.
import * as vscode from 'vscode';
import { TASK_GROUP_BY_DESCRIPTIONS, TASK_GROUP_BY_VALUES, type Location, type TaskGroupBy } from '../adapter/protocol';
import { COMMANDS } from '../contributionIds';
import { FuturesView } from '../views/futuresView';
import { LoopscopeSessions } from '../views/sessions';
import { TASK_SORTS, TaskSort } from '../views/stepStatsText';
import { TasksView } from '../views/tasksView';
import { ViewFilter } from '../views/viewFilter';
import { ViewItem } from '../views/viewItem';

export function registerViewCommands(sessions: LoopscopeSessions, tasksView: TasksView, futuresView: FuturesView,
  views: readonly { viewId: string; showMore(listId: string): void }[]): vscode.Disposable[] {
  const askFilter = async (filter: ViewFilter, title: string, prompt: string) => {
    const text = await vscode.window.showInputBox({ title, prompt, placeHolder: 'e.g. consumer', value: filter.text ?? '' });
    if (text !== undefined) filter.set(text.trim(), sessions.active?.session.id);
  };
  return [
    vscode.commands.registerCommand(COMMANDS.filterTasks, () => askFilter(tasksView.filter, 'Filter Asyncio Tasks',
      'Show the tasks whose name, coroutine, state or place (app.py:12) contains this text (any case), over all tasks. Leave empty to show all.')),
    vscode.commands.registerCommand(COMMANDS.clearTaskFilter, () => tasksView.filter.set(undefined, sessions.active?.session.id)),
    vscode.commands.registerCommand(COMMANDS.filterFutures, () => askFilter(futuresView.filter, 'Filter Futures',
      'Show the futures whose description, awaiting tasks or callbacks contain this text (any case). Leave empty to show all.')),
    vscode.commands.registerCommand(COMMANDS.clearFutureFilter, () => futuresView.filter.set(undefined, sessions.active?.session.id)),

    vscode.commands.registerCommand(COMMANDS.groupTasksBy, async () => {
      const picked = await vscode.window.showQuickPick(TASK_GROUP_BY_VALUES.map((by) => ({
        label: by, description: TASK_GROUP_BY_DESCRIPTIONS[by], picked: by === tasksView.groupBy,
      })), { title: 'Group Asyncio Tasks By' });
      if (picked) tasksView.setGroupBy(picked.label as TaskGroupBy);
    }),

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

    // From a row's click (its Location) or from a row's context menu (the row).
    vscode.commands.registerCommand(COMMANDS.showLocation, async (target: Location | ViewItem) => {
      const where = 'path' in target ? target : target.reveal;
      if (!where) return;
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
