// One stop's snapshot, indexed once and shared by every view: tasks by id, the loops worth showing.
// No `vscode` import.
import type { LoopSnapshot, SnapshotBody, TaskSnapshot } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';

export type TaskState = TaskSnapshot['state'];

export interface SnapshotIndex {
  readonly loops: readonly LoopSnapshot[];
  /** Every listed task of every loop, by id (ids are unique across loops). */
  readonly tasks: ReadonlyMap<number, { task: TaskSnapshot; loop: LoopSnapshot }>;
  /**
   * The tasks each task waits for: the reverse of awaitedBy (which sees through gather, wait,
   * TaskGroup...) joined with a direct `awaiting` of a task.
   */
  readonly awaits: ReadonlyMap<number, readonly number[]>;
}

export function indexSnapshot(body: SnapshotBody): SnapshotIndex {
  const tasks = new Map<number, { task: TaskSnapshot; loop: LoopSnapshot }>();
  for (const loop of body.loops) {
    for (const task of loop.tasks) tasks.set(task.id, { task, loop });
  }
  const awaits = new Map<number, number[]>();
  const add = (waiter: number, awaited: number) => {
    const list = awaits.get(waiter);
    if (!list) awaits.set(waiter, [awaited]);
    else if (!list.includes(awaited)) list.push(awaited);
  };
  for (const { task } of tasks.values()) {
    if (task.awaiting?.kind === 'task' && task.awaiting.id !== undefined) add(task.id, task.awaiting.id);
    for (const waiter of task.awaitedBy) add(waiter, task.id);
  }
  return { loops: body.loops, tasks, awaits };
}

const FINISHED: ReadonlySet<TaskState> = new Set(['done', 'cancelled', 'failed']);

export function isFinished(state: TaskState): boolean {
  return FINISHED.has(state);
}

/** The context value of a row that stands for a task: it selects the task commands that apply. */
export function taskContextValue(task: TaskSnapshot | undefined): string {
  return task && isFinished(task.state) ? CONTEXT_VALUES.finishedTask : CONTEXT_VALUES.liveTask;
}

/** 'consumer-2', or 'task 12' for a task the snapshot did not list. */
export function taskName(index: SnapshotIndex, id: number): string {
  return index.tasks.get(id)?.task.name ?? `task ${id}`;
}

/** Loops that have something to show: open ones, and closed ones that still list tasks. */
export function shownLoops(index: SnapshotIndex): LoopSnapshot[] {
  return index.loops.filter((loop) => loop.state !== 'closed' || loop.tasks.length > 0);
}

/** 'Event loop 1 (MainThread)'. */
export function loopLabel(loop: LoopSnapshot): string {
  return `Event loop ${loop.id} (${loop.osThread})`;
}
