// The Asyncio Tasks view: a thin adapter from the active session's snapshot to tasksTree.ts, plus
// the name filter set with the view's Filter button.
import * as vscode from 'vscode';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { TaskKey, taskChildren } from './tasksTree';
import { ViewItem, errorItem } from './viewItem';

export const TASKS_VIEW = 'loopscope.tasks';
/** Context key: the Asyncio Tasks view is filtered (shows the Clear Filter button). */
const FILTERED_CONTEXT = 'loopscope.tasksFiltered';

export class TasksView extends LoopscopeTreeView<TaskKey> {
  private filterText: string | undefined;

  constructor(sessions: LoopscopeSessions) {
    super(TASKS_VIEW, sessions);
  }

  get filter(): string | undefined {
    return this.filterText;
  }

  setFilter(filter: string | undefined): void {
    this.filterText = filter || undefined;
    this.view.description = this.filterText ? `filter: ${this.filterText}` : undefined;
    void vscode.commands.executeCommand('setContext', FILTERED_CONTEXT, this.filterText !== undefined);
    this.refresh();
  }

  protected async stoppedChildren(model: LoopscopeSessionModel, parent: ViewItem<TaskKey> | undefined): Promise<ViewItem[]> {
    const fetched = await model.snapshot();
    if (!fetched) return [];
    if ('error' in fetched) return parent ? [] : [errorItem(fetched.error)];
    return taskChildren(fetched.value, parent, { filter: this.filterText, limits: this.limits });
  }
}
