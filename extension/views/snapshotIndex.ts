// One stop's snapshot, indexed once and shared by every view: tasks by id, the loops worth showing.
// No `vscode` import.
import type { LoopSnapshot, SnapshotBody, TaskSnapshot } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';

export type TaskState = TaskSnapshot['state'];

export interface SnapshotIndex {
  readonly loops: readonly LoopSnapshot[];
  /** The tasks the snapshot lists in full, by id (ids are unique across loops); views that page use loopscope/tasks. */
  readonly tasks: ReadonlyMap<number, { task: TaskSnapshot; loop: LoopSnapshot }>;
}

export function indexSnapshot(body: SnapshotBody): SnapshotIndex {
  const tasks = new Map<number, { task: TaskSnapshot; loop: LoopSnapshot }>();
  for (const loop of body.loops) {
    for (const task of loop.tasks) tasks.set(task.id, { task, loop });
  }
  return { loops: body.loops, tasks };
}

const FINISHED: ReadonlySet<TaskState> = new Set(['done', 'cancelled', 'failed']);

export function isFinished(state: TaskState): boolean {
  return FINISHED.has(state);
}

/** The context value of a row that stands for a task: it selects the task commands that apply. */
export function taskContextValue(task: { state: TaskState } | undefined): string {
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
