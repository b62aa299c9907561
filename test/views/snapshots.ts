// Small hand-made snapshots for the view tests, typed with the generated protocol types.
import type { LoopSnapshot, SnapshotBody, TaskSnapshot } from '../../extension/adapter/protocol';
import { SnapshotIndex, indexSnapshot } from '../../extension/views/snapshotIndex';
import { ViewItem } from '../../extension/views/viewItem';

export function task(id: number, name: string, fields: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, name, coroutine: name.replace(/-\d+$/, ''), state: 'waiting', awaitedBy: [], steps: 0, stack: [], ...fields };
}

export function loop(id: number, fields: Partial<LoopSnapshot> = {}): LoopSnapshot {
  const tasks = fields.tasks ?? [];
  return {
    id, threadId: id, osThread: 'MainThread', iteration: 7, time: 1234.5, clock: 'wall', state: 'paused',
    ready: [], timers: [], watched: [], futures: [], deadlocks: [],
    tasksTotal: tasks.filter((t) => !['done', 'cancelled', 'failed'].includes(t.state)).length,
    ...fields, tasks,
  };
}

export function snapshot(...loops: LoopSnapshot[]): SnapshotIndex {
  const body: SnapshotBody = { loops };
  return indexSnapshot(body);
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
