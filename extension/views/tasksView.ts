// The Asyncio Tasks view: the snapshot through tasksTree.ts, and the name filter set with the view's
// Filter button.
import * as vscode from 'vscode';
import { CONTEXT_KEYS, VIEWS } from '../contributionIds';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessions } from './sessions';
import { SnapshotIndex } from './snapshotIndex';
import { TaskKey, taskChildren } from './tasksTree';

export class TasksView extends LoopscopeTreeView<TaskKey, SnapshotIndex> {
  private filterText: string | undefined;

  constructor(sessions: LoopscopeSessions) {
    super(VIEWS.tasks, sessions, {
      fetch: (model) => model.snapshot(),
      rows: (index, parent, limits) => taskChildren(index, parent, { filter: this.filterText, limits }),
    });
  }

  get filter(): string | undefined {
    return this.filterText;
  }

  setFilter(filter: string | undefined): void {
    this.filterText = filter || undefined;
    this.view.description = this.filterText ? `filter: ${this.filterText}` : undefined;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.tasksFiltered, this.filterText !== undefined);
    this.refresh();
  }
}
