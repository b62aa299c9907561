// The Asyncio Tasks view: fetches what each row needs (the stop's snapshot, a loop's task groups,
// a page of a group, a task by id) through loopscope/snapshot and loopscope/tasks, and maps it with
// tasksTree.ts. The runtime counts, groups and filters over every task; this view never holds more
// than the rows it shows. The filter and the grouping belong to the session they were set in.
import type { TaskGroupBy, TasksArguments, TasksBody } from '../adapter/protocol';
import { CONTEXT_KEYS, VIEWS } from '../contributionIds';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessionModel, fetchedValue } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import {
  TaskItem, TaskKey, TaskTreeOptions, deadlockChildren, groupChildren, taskDetails, taskRoots, groupRows,
} from './tasksTree';
import { PAGE_SIZE, PageLimits, ViewItem } from './viewItem';
import { TASK_SORTS, TaskSort } from './stepStatsText';
import { ViewFilter } from './viewFilter';

export class TasksView extends LoopscopeTreeView<TaskKey, never> {
  readonly filter = new ViewFilter(CONTEXT_KEYS.tasksFiltered, () => this.showSettings());
  private grouping: TaskGroupBy = 'state';
  private sortBy: TaskSort = 'created';
  /** The session the grouping was chosen in: a new session starts grouped by state. */
  private groupingSession: string | undefined;

  constructor(private readonly taskSessions: LoopscopeSessions) {
    super(VIEWS.tasks, taskSessions, { children: (model, parent, limits) => this.rowsUnder(model, parent as TaskItem | undefined, limits) });
    this.subscriptions.push(taskSessions.onDidChange(() => this.followActiveSession()));
  }

  get groupBy(): TaskGroupBy {
    return this.grouping;
  }

  setGroupBy(groupBy: TaskGroupBy): void {
    this.grouping = groupBy;
    this.groupingSession = this.taskSessions.active?.session.id;
    this.showSettings();
  }

  private followActiveSession(): void {
    const active = this.taskSessions.active?.session.id;
    this.filter.follow(active);
    if (active !== undefined && active !== this.groupingSession && this.grouping !== 'state') {
      this.grouping = 'state';
      this.showSettings();
    }
  }

  get sort(): TaskSort {
    return this.sortBy;
  }

  /** Orders by step statistics, in the runtime over every task of a group; they need
   * "stepStatistics": "tasks" (tasks without statistics come last). */
  setSort(sort: TaskSort): void {
    this.sortBy = sort;
    this.showSettings();
  }

  private showSettings(): void {
    const notes = [this.filter.text && `filter: ${this.filter.text}`, this.grouping !== 'state' && `by ${this.grouping}`,
      this.sortBy !== 'created' && `${TASK_SORTS[this.sortBy].label.toLowerCase()} first`];
    this.view.description = notes.filter(Boolean).join(' · ') || undefined;
    this.refresh();
  }

  private async rowsUnder(model: LoopscopeSessionModel, parent: TaskItem | undefined, limits: PageLimits): Promise<ViewItem[]> {
    const filter = this.filter.text;
    const options: TaskTreeOptions = { groupBy: this.grouping, filter, limits };
    const base = { groupBy: this.grouping, ...(filter ? { filter } : {}), ...(this.sortBy !== 'created' ? { sort: this.sortBy } : {}) };
    const ask = (args: TasksArguments) => fetchedValue(model.tasks(args));
    const key = parent?.key;
    if (!key) {
      const snapshot = await fetchedValue(model.snapshot());
      const groups = new Map<number, TasksBody>();
      for (const loop of snapshot.loops.filter((l) => l.state === 'paused')) groups.set(loop.id, await ask({ loopId: loop.id, ...base }));
      return taskRoots(snapshot.loops, groups, options);
    }
    switch (key.kind) {
      case 'loop': {
        const snapshot = await fetchedValue(model.snapshot());
        const loop = snapshot.loops.find((l) => l.id === key.loopId);
        return loop ? groupRows(loop, await ask({ loopId: key.loopId, ...base }), options) : [];
      }
      case 'group': {
        const limit = limits.get(parent!.id) ?? PAGE_SIZE;
        const page = await ask({ loopId: key.loopId, ...base, group: key.group, start: 0, count: limit });
        return groupChildren(parent!, key.loopId, page, limits);
      }
      case 'deadlock':
        return deadlockChildren(parent!, key.loopId, key.deadlock);
      case 'task': {
        const task = key.task ?? (await ask({ loopId: key.loopId, ids: [key.taskId] })).tasks?.[0];
        return task ? taskDetails(task, key.loopId, parent!.id) : [];
      }
    }
  }
}
