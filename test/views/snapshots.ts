// Small hand-made snapshots for the view tests, typed with the generated protocol types.
import type { LoopSnapshot, SnapshotBody, TaskRef, TaskSnapshot, TasksBody } from '../../extension/adapter/protocol';
import { SnapshotIndex, indexSnapshot } from '../../extension/views/snapshotIndex';
import { ViewItem } from '../../extension/views/viewItem';

export function task(id: number, name: string, fields: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, name, coroutine: name.replace(/-\d+$/, ''), state: 'waiting', awaitedBy: [], steps: 0, stack: [], ...fields };
}

/** A TaskRef to a task made with task(). */
export function ref(of: TaskSnapshot): TaskRef {
  const made: TaskRef = { id: of.id, name: of.name, state: of.state };
  if (of.location) made.location = of.location;
  return made;
}

export function loop(id: number, fields: Partial<LoopSnapshot> = {}): LoopSnapshot {
  const tasks = fields.tasks ?? [];
  const counts: LoopSnapshot['taskCounts'] = {};
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
  return {
    id, threadId: id, osThread: 'MainThread', iteration: 7, time: 1234.5, clock: 'wall', state: 'paused', heldAt: 'iteration',
    ready: [], timers: [], watched: [], futures: [], futuresTotal: (fields.futures ?? []).length, deadlocks: [],
    tasksTotal: tasks.filter((t) => !['done', 'cancelled', 'failed'].includes(t.state)).length, taskCounts: counts,
    ...fields, tasks,
  };
}

export function snapshot(...loops: LoopSnapshot[]): SnapshotIndex {
  const body: SnapshotBody = { loops };
  return indexSnapshot(body);
}

/** What the runtime answers for the groups of a loop's tasks grouped by state (optionally filtered). */
export function stateGroups(tasks: TaskSnapshot[], filter?: string): TasksBody {
  const order = ['running', 'ready', 'waiting', 'failed', 'cancelled', 'done'];
  const matching = tasks.filter((t) => !filter || `${t.name} ${t.coroutine} ${t.state}`.toLowerCase().includes(filter.toLowerCase()));
  const groups = order.map((state) => ({ key: state, label: state, count: matching.filter((t) => t.state === state).length }))
    .filter((g) => g.count > 0);
  return { total: tasks.length, matching: matching.length, groups };
}

/** What the runtime answers for a page of one group. */
export function page(members: TaskSnapshot[], start: number, count: number): TasksBody {
  return { total: members.length, matching: members.length, groupTotal: members.length, tasks: members.slice(start, start + count) };
}

/** The label of each row, for compact assertions. */
export const labels = (rows: readonly ViewItem[]): string[] => rows.map((r) => r.label);

/** Every row reachable from `roots`, depth first, expanding at most `depth` levels. */
export function walk<K>(roots: ViewItem[], children: (parent: ViewItem<K>) => ViewItem[], depth: number): ViewItem[] {
  const all: ViewItem[] = [];
  const visit = (rows: ViewItem[], level: number) => {
    for (const row of rows) {
      all.push(row);
      if (row.collapsible !== 'none' && level < depth) visit(children(row as ViewItem<K>), level + 1);
    }
  };
  visit(roots, 0);
  return all;
}
