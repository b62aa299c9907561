// The Event Loop view as a pure function of the snapshot: per loop its time and clock, iteration,
// ready queue, timers by due time, watched file descriptors and statistics. No `vscode` import.
import type { LoopSnapshot } from '../adapter/protocol';
import { SnapshotIndex, loopLabel, taskContextValue } from './snapshotIndex';
import { loopStatsRows } from './stepStatsText';
import { PageLimits, ViewItem, capitalized, count, joined, loopPosition, messageItem, paged, plural } from './viewItem';

export type LoopPart = 'ready' | 'timers' | 'watched' | 'stats';

export type EventLoopKey =
  | { kind: 'loop'; loopId: number }
  | { kind: LoopPart; loopId: number };

export type EventLoopItem = ViewItem<EventLoopKey>;

// As launch.json's `clock` option describes them (extension/launchOptions.json).
const CLOCKS: Record<LoopSnapshot['clock'], { name: string; meaning: string }> = {
  frozen: { name: 'frozen clock', meaning: 'Loop time leaves out the time spent paused: a pause in the debugger does not fire timeouts.' },
  wall: { name: 'wall clock', meaning: 'The plain clock: timeouts fire after a long pause.' },
  virtual: { name: 'virtual clock', meaning: 'Like frozen, and when nothing is ready and no file descriptor is watched, time jumps to the next timer.' },
};

export function eventLoopChildren(index: SnapshotIndex, parent: EventLoopItem | undefined, limits: PageLimits): ViewItem[] {
  if (!parent) return index.loops.map(loopItem);
  const key = parent.key;
  const loop = key && index.loops.find((l) => l.id === key.loopId);
  if (!key || !loop) return [];
  switch (key.kind) {
    case 'loop': return loopParts(loop);
    case 'ready':
      return paged(parent.id, loop.ready, limits, (entry, i) => taskRow(index, `${parent.id}/${i}`, entry.callback, entry.taskId, entry.taskName));
    case 'timers':
      return paged(parent.id, timersByDueTime(loop), limits, (timer, i) => ({
        ...taskRow(index, `${parent.id}/${i}`, timer.callback, timer.taskId, timer.taskName),
        label: formatDueIn(timer.dueIn, timer.never),
        description: joined(timer.callback, timer.taskName),
        tooltip: timer.when !== undefined ? `At loop time ${timer.when.toFixed(3)}: ${timer.callback}`
          : timer.never ? `Never: this timer is due at an infinite loop time. ${timer.callback}` : timer.callback,
        icon: { id: 'clock' },
      }));
    case 'stats':
      return loopStatsRows(loop);
    case 'watched':
      return paged(parent.id, loop.watched, limits, (entry) => ({
        id: `${parent.id}/${entry.fd}`, label: `fd ${entry.fd}`, description: joined(entry.events, entry.callback),
        icon: { id: 'plug' }, collapsible: 'none',
      }));
  }
}

function loopItem(loop: LoopSnapshot): EventLoopItem {
  const held = loop.state === 'paused';
  return {
    id: `loop${loop.id}`,
    label: loopLabel(loop),
    description: held ? joined(loopPosition(loop.iteration, loop.heldAt), formatLoopTime(loop.time)) : loop.state,
    tooltip: held ? undefined : loop.state === 'running' ? 'This loop is not held: it has nothing to show.' : 'This loop is closed.',
    icon: { id: 'sync' },
    collapsible: held ? 'expanded' : 'none',
    key: { kind: 'loop', loopId: loop.id },
  };
}

function loopParts(loop: LoopSnapshot): ViewItem[] {
  const id = `loop${loop.id}`;
  const part = (kind: LoopPart, label: string, length: number, icon: string): EventLoopItem => ({
    id: `${id}/${kind}`, label, description: count(length), icon: { id: icon },
    collapsible: length > 0 ? 'collapsed' : 'none', key: { kind, loopId: loop.id },
  });
  const clock = CLOCKS[loop.clock];
  return [
    { ...messageItem(`${id}/time`, `Loop time ${formatLoopTime(loop.time)}`, { id: 'watch' }, clock.meaning), description: clock.name },
    messageItem(`${id}/iteration`, capitalized(loopPosition(loop.iteration, loop.heldAt)), { id: 'debug-step-over' },
      `${plural(loop.iteration, 'iteration')} started; the next to run is ${count(loop.iteration + 1)}. Step Loop Iteration stops before it.`),
    part('ready', 'Ready queue', loop.ready.length, 'list-ordered'),
    part('timers', 'Timers', loop.timers.length, 'clock'),
    part('watched', 'Watched file descriptors', loop.watched.length, 'plug'),
    ...(loop.stats ? [{ ...part('stats', 'Statistics', loopStatsRows(loop).length, 'graph'), description: undefined }] : []),
  ];
}

/** A ready handle or timer: its callback, and the task it steps. Its id is its position in the list. */
function taskRow(index: SnapshotIndex, id: string, callback: string, taskId: number | undefined, name: string | undefined): ViewItem {
  const row: ViewItem = {
    id,
    label: callback,
    icon: { id: 'symbol-event' },
    collapsible: 'none',
  };
  if (taskId !== undefined) {
    const task = index.tasks.get(taskId)?.task;
    row.description = name ?? task?.name ?? `task ${taskId}`;
    row.taskId = taskId;
    if (task?.location) row.reveal = task.location;
    row.contextValue = taskContextValue(task);
  }
  return row;
}

/** Soonest first, those that never come due last; the snapshot sends them so, but the view should not depend on it. */
export function timersByDueTime(loop: LoopSnapshot): LoopSnapshot['timers'] {
  const due = (timer: LoopSnapshot['timers'][number]) => timer.dueIn ?? (timer.never ? Infinity : -Infinity);
  return [...loop.timers].sort((a, b) => (due(a) === due(b) ? 0 : due(a) < due(b) ? -1 : 1));
}

/** 'due in 1.234 s'; a timer already past its time is 'due now (0.002 s late)'; one at +infinity 'never due'. */
export function formatDueIn(seconds: number | undefined, never = false): string {
  if (never) return 'never due';
  if (seconds === undefined) return 'due now';
  if (seconds < -0.0005) return `due now (${(-seconds).toFixed(3)} s late)`;
  return `due in ${Math.max(seconds, 0).toFixed(3)} s`;
}

/** 't=12.345'. */
export function formatLoopTime(time: number): string {
  return `t=${time.toFixed(3)}`;
}
