// The Futures view as a pure function of the snapshot: the futures tasks wait on (not tasks, not
// sleeps), who waits for each, and the callbacks that run when it completes. No `vscode` import.
import type { FutureSnapshot, LoopSnapshot } from '../adapter/protocol';
import { SnapshotIndex, loopLabel, shownLoops, taskContextValue, taskName } from './snapshotIndex';
import { taskDescription, taskTooltip } from './tasksTree';
import { PageLimits, ViewItem, count, joined, paged, someNames } from './viewItem';

export type FutureKey =
  | { kind: 'loop'; loopId: number }
  | { kind: 'future'; loopId: number; futureId: number };

export type FutureItem = ViewItem<FutureKey>;

export function futureChildren(index: SnapshotIndex, parent: FutureItem | undefined, limits: PageLimits): ViewItem[] {
  if (!parent) {
    const loops = shownLoops(index).filter((loop) => loop.futures.length > 0);
    if (loops.length === 1) return futureRows(index, loops[0], limits);
    return loops.map((loop) => ({
      id: `loop${loop.id}`, label: loopLabel(loop), description: `${count(loop.futures.length)} ${loop.futures.length === 1 ? 'future' : 'futures'}`,
      icon: { id: 'sync' }, collapsible: 'expanded', key: { kind: 'loop', loopId: loop.id },
    }));
  }
  const key = parent.key;
  const loop = key && index.loops.find((l) => l.id === key.loopId);
  if (!key || !loop) return [];
  if (key.kind === 'loop') return futureRows(index, loop, limits);
  const future = loop.futures.find((f) => f.id === key.futureId);
  return future ? futureDetails(index, future, parent.id) : [];
}

function futureRows(index: SnapshotIndex, loop: LoopSnapshot, limits: PageLimits): ViewItem[] {
  const listId = `loop${loop.id}/futures`;
  return paged(listId, loop.futures, limits, (future): FutureItem => ({
    id: `${listId}/${future.id}`,
    label: future.description,
    description: futureDescription(index, future),
    tooltip: [
      `Future ${future.id}: ${future.state}`,
      `${future.description}`,
      future.callbacks.length ? `callbacks: ${future.callbacks.join(', ')}` : 'no callbacks',
    ].join('\n'),
    icon: { id: future.state === 'pending' ? 'circle-large-outline' : future.state === 'done' ? 'pass' : 'circle-slash' },
    collapsible: future.awaitedBy.length + future.callbacks.length > 0 ? 'collapsed' : 'none',
    key: { kind: 'future', loopId: loop.id, futureId: future.id },
  }));
}

/** 'awaited by a, b' — and the state, when it is no longer pending. */
export function futureDescription(index: SnapshotIndex, future: FutureSnapshot): string {
  const names = future.awaitedBy.map((id) => taskName(index, id));
  return joined(future.state !== 'pending' && future.state, names.length > 0 && `awaited by ${someNames(names)}`);
}

function futureDetails(index: SnapshotIndex, future: FutureSnapshot, parentId: string): ViewItem[] {
  const rows: ViewItem[] = future.awaitedBy.map((id) => {
    const found = index.tasks.get(id);
    const row: ViewItem = {
      id: `${parentId}/awaitedBy${id}`,
      label: `awaited by: ${taskName(index, id)}`,
      icon: { id: 'watch' },
      collapsible: 'none',
      taskId: id,
    };
    if (found) {
      row.description = taskDescription(found.task);
      row.tooltip = taskTooltip(index, found.task);
      row.contextValue = taskContextValue(found.task);
      if (found.task.location) row.reveal = found.task.location;
    }
    return row;
  });
  future.callbacks.forEach((callback, i) => rows.push({
    id: `${parentId}/callback${i}`, label: callback, description: 'done callback',
    icon: { id: 'symbol-event' }, collapsible: 'none',
  }));
  return rows;
}
