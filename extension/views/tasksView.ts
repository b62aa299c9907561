// The Asyncio Tasks view: the snapshot through tasksTree.ts, and the name filter set with the view's
// Filter button.
import * as vscode from 'vscode';
import { CONTEXT_KEYS, VIEWS } from '../contributionIds';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessions } from './sessions';
import { SnapshotIndex } from './snapshotIndex';
import { TASK_SORTS, TaskSort } from './stepStatsText';
import { TaskKey, taskChildren } from './tasksTree';

export class TasksView extends LoopscopeTreeView<TaskKey, SnapshotIndex> {
  private filterText: string | undefined;
  private sortBy: TaskSort = 'created';

  constructor(sessions: LoopscopeSessions) {
    super(VIEWS.tasks, sessions, {
      fetch: (model) => model.snapshot(),
      rows: (index, parent, limits) => taskChildren(index, parent, { filter: this.filterText, limits, sort: this.sortBy }),
    });
  }

  get sort(): TaskSort {
    return this.sortBy;
  }

  /** Orders by step statistics need "stepStatistics": "tasks" (tasks without statistics come last). */
  setSort(sort: TaskSort): void {
    this.sortBy = sort;
    this.updateDescription();
    this.refresh();
  }

  private updateDescription(): void {
    const parts = [this.filterText && `filter: ${this.filterText}`, this.sortBy !== 'created' && `by ${TASK_SORTS[this.sortBy].label.toLowerCase()}`];
    this.view.description = parts.filter(Boolean).join(' · ') || undefined;
  }

  get filter(): string | undefined {
    return this.filterText;
  }

  setFilter(filter: string | undefined): void {
    this.filterText = filter || undefined;
    this.updateDescription();
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.tasksFiltered, this.filterText !== undefined);
    this.refresh();
  }
}
