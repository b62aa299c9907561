// The Futures view as a pure function of the snapshot: the futures tasks wait on (not tasks, not
// sleeps), where the program made each and under which names its tasks hold it, who waits for
// each, and the callbacks that run when it completes. Futures that stand for the same thing
// ('Queue.get()' × 16, made on the same line) are one row that expands to them. No `vscode` import.
import type { FutureSnapshot, HolderRef, LoopSnapshot, TaskRef } from '../adapter/protocol';
import { SnapshotIndex, loopLabel, shownLoops, taskContextValue } from './snapshotIndex';
import { STATE_ICONS } from './tasksTree';
import { PageLimits, ViewItem, count, joined, messageItem, paged, plural, shortLocation, someNames } from './viewItem';

export type FutureKey =
  | { kind: 'loop'; loopId: number }
  | { kind: 'same'; loopId: number; description: string }
  | { kind: 'future'; loopId: number; futureId: number };

export type FutureItem = ViewItem<FutureKey>;

export interface FutureTreeOptions {
  /** Show only futures whose description, awaiting tasks or callbacks contain this (any case). */
  filter?: string;
  limits: PageLimits;
}

export function futureChildren(index: SnapshotIndex, parent: FutureItem | undefined, options: FutureTreeOptions): ViewItem[] {
  const shown = (loop: LoopSnapshot) => loop.futures.filter((f) => matchesFilter(f, options.filter));
  if (!parent) {
    const loops = shownLoops(index).filter((loop) => loop.futures.length > 0);
    const rows: ViewItem[] = loops.length === 1 ? futureRows(loops[0], shown(loops[0]), options.limits)
      : loops.map((loop) => ({
        id: `loop${loop.id}`, label: loopLabel(loop), description: plural(shown(loop).length, 'future'),
        icon: { id: 'sync' }, collapsible: 'expanded', key: { kind: 'loop', loopId: loop.id },
      }));
    if (options.filter && loops.every((loop) => shown(loop).length === 0)) {
      rows.push(messageItem('no-match', `No future matches "${options.filter}"`, { id: 'filter' },
        'Change the filter, or clear it with the view\'s Clear Filter button.'));
    }
    return rows;
  }
  const key = parent.key;
  const loop = key && index.loops.find((l) => l.id === key.loopId);
  if (!key || !loop) return [];
  switch (key.kind) {
    case 'loop': return futureRows(loop, shown(loop), options.limits);
    case 'same':
      return paged(parent.id, shown(loop).filter((f) => f.description === key.description), options.limits,
        (future) => futureItem(loop, future, `${parent.id}/${future.id}`));
    case 'future': {
      const future = loop.futures.find((f) => f.id === key.futureId);
      return future ? futureDetails(future, parent.id) : [];
    }
  }
}

export function matchesFilter(future: FutureSnapshot, filter: string | undefined): boolean {
  if (!filter) return true;
  const wanted = filter.toLowerCase();
  return [future.description, future.state, ...future.awaitedBy.map((t) => t.name), ...future.callbacks,
    ...future.heldBy.map(holderText)]
    .some((text) => text.toLowerCase().includes(wanted));
}

/** A loop's futures, the ones that stand for the same thing as one row; then what the snapshot left out. */
function futureRows(loop: LoopSnapshot, futures: FutureSnapshot[], limits: PageLimits): ViewItem[] {
  const listId = `loop${loop.id}/futures`;
  const byDescription = new Map<string, FutureSnapshot[]>();
  for (const future of futures) byDescription.set(future.description, [...(byDescription.get(future.description) ?? []), future]);
  const rows = paged(listId, [...byDescription.values()], limits, (same): ViewItem => {
    if (same.length === 1) return futureItem(loop, same[0], `${listId}/${same[0].id}`);
    const waiters = same.flatMap((f) => f.awaitedBy);
    return {
      id: `${listId}/same/${same[0].description}`, label: `${count(same.length)} × ${same[0].description}`,
      description: waiters.length ? `awaited by ${plural(waiters.length, 'task')}` : undefined,
      tooltip: `${plural(same.length, 'future')} standing for ${same[0].description}, awaited by ${someNames(waiters.map((t) => t.name), 10)}`,
      icon: { id: 'layers' }, collapsible: 'collapsed', key: { kind: 'same', loopId: loop.id, description: same[0].description },
    } as FutureItem;
  });
  if (loop.futuresTotal > loop.futures.length) {
    const left = loop.futuresTotal - loop.futures.length;
    rows.push(messageItem(`${listId}/unlisted`, `${plural(left, 'more future')} not fetched`, { id: 'info' },
      `The snapshot lists ${count(loop.futures.length)} of the ${count(loop.futuresTotal)} futures tasks of this loop wait on.`));
  }
  return rows;
}

function futureItem(loop: LoopSnapshot, future: FutureSnapshot, id: string): FutureItem {
  return {
    id,
    label: future.description,
    description: futureDescription(future),
    tooltip: [
      `Future ${future.id}: ${future.state}`,
      future.description,
      future.createdAt && `created at ${shortLocation(future.createdAt)}`,
      future.awaitedBy.length ? `awaited by ${future.awaitedBy.map((t) => t.name).join(', ')}` : 'awaited by no task',
      future.heldBy.length > 0 && `held as ${future.heldBy.map(holderText).join('; ')}`,
      future.lostWakeup && 'Nothing but the tasks waiting on it refers to it: nothing can ever complete it (a lost wake-up).',
      future.callbacks.length ? `callbacks: ${future.callbacks.join(', ')}` : 'no callbacks',
    ].filter(Boolean).join('\n'),
    icon: future.lostWakeup ? { id: 'warning', color: 'problemsWarningIcon.foreground' }
      : { id: future.state === 'pending' ? 'circle-large-outline' : future.state === 'done' ? 'pass' : 'circle-slash' },
    collapsible: future.awaitedBy.length + future.heldBy.length + future.callbacks.length > 0 || future.createdAt
      ? 'collapsed' : 'none',
    key: { kind: 'future', loopId: loop.id, futureId: future.id },
  };
}

/** 'local done of worker() in task w1', 'global ready of app.py'. */
function holderText(holder: HolderRef): string {
  return holder.task ? `${holder.description} in task ${holder.task.name}` : holder.description;
}

/** 'awaited by a, b' — and the state, when it is no longer pending. */
export function futureDescription(future: FutureSnapshot): string {
  const names = future.awaitedBy.map((t) => t.name);
  return joined(future.lostWakeup && 'lost: nothing can complete it', future.state !== 'pending' && future.state,
    names.length > 0 && `awaited by ${someNames(names)}`);
}

function futureDetails(future: FutureSnapshot, parentId: string): ViewItem[] {
  const rows: ViewItem[] = [];
  if (future.createdAt) {
    rows.push({
      id: `${parentId}/created`, label: 'created at', description: shortLocation(future.createdAt),
      icon: { id: 'location' }, collapsible: 'none', reveal: future.createdAt,
    });
  }
  rows.push(...future.awaitedBy.map((ref: TaskRef) => {
    const row: ViewItem = {
      id: `${parentId}/awaitedBy${ref.id}`, label: `awaited by: ${ref.name}`,
      description: joined(ref.state, ref.location && shortLocation(ref.location)),
      icon: STATE_ICONS[ref.state], contextValue: taskContextValue(ref), collapsible: 'none', taskId: ref.id,
    };
    if (ref.location) row.reveal = ref.location;
    return row;
  }));
  future.heldBy.forEach((holder, i) => {
    const row: ViewItem = {
      id: `${parentId}/heldBy${i}`, label: `held as: ${holder.description}`,
      description: holder.task && `task ${holder.task.name}`, icon: { id: 'references' }, collapsible: 'none',
      tooltip: `${holderText(holder)}: whoever holds a future can complete it`,
    };
    if (holder.task) {
      row.taskId = holder.task.id;
      row.contextValue = taskContextValue(holder.task);
      if (holder.task.location) row.reveal = holder.task.location;
    }
    rows.push(row);
  });
  future.callbacks.forEach((callback, i) => rows.push({
    id: `${parentId}/callback${i}`, label: callback, description: 'done callback',
    icon: { id: 'symbol-event' }, collapsible: 'none',
  }));
  return rows;
}
