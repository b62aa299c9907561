// The Asyncio Tasks view as a pure function of the snapshot: deadlock warnings, tasks grouped by
// state (per loop when there are several), and under each task its await chain and the tasks it
// waits for or is awaited by. No `vscode` import; tasksView.ts adapts it to a TreeDataProvider.
import type { LoopSnapshot, TaskSnapshot } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';
import { SnapshotIndex, TaskState, isFinished, loopLabel, shownLoops, taskContextValue, taskName } from './snapshotIndex';
import { TaskSort, sortTasks, stepStatsLines, stepStatsRows, stepStatsShort } from './stepStatsText';
import {
  PageLimits, ViewIcon, ViewItem, count, joined, longLocation, messageItem, paged, shortLocation,
} from './viewItem';

export type TaskKey =
  | { kind: 'loop'; loopId: number }
  | { kind: 'group'; loopId: number; state: TaskState }
  | { kind: 'deadlock'; loopId: number; cycle: number[] }
  | { kind: 'task'; taskId: number };

export type TaskItem = ViewItem<TaskKey>;

export interface TaskTreeOptions {
  /** Show only tasks whose name or coroutine contains this (any case). */
  filter?: string;
  limits: PageLimits;
  /** The order of the tasks in each group (creation order by default). */
  sort?: TaskSort;
}

/** Groups in the order a person looks for them: what runs, what is about to, what waits, what ended. */
export const STATE_ORDER: readonly TaskState[] = ['running', 'ready', 'waiting', 'failed', 'cancelled', 'done'];

const STATE_TITLES: Record<TaskState, string> = {
  running: 'Running', ready: 'Ready', waiting: 'Waiting', failed: 'Failed', cancelled: 'Cancelled', done: 'Done',
};

const STATE_ICONS: Record<TaskState, ViewIcon> = {
  running: { id: 'play', color: 'debugIcon.startForeground' },
  ready: { id: 'arrow-circle-right' },
  waiting: { id: 'watch' },
  failed: { id: 'error', color: 'errorForeground' },
  cancelled: { id: 'circle-slash' },
  done: { id: 'pass' },
};

/** The rows under `parent` (the top rows when it is undefined). */
export function taskChildren(index: SnapshotIndex, parent: TaskItem | undefined, options: TaskTreeOptions): ViewItem[] {
  if (!parent) return taskRoots(index, options);
  const key = parent.key;
  if (!key) return [];
  switch (key.kind) {
    case 'loop': {
      const loop = index.loops.find((l) => l.id === key.loopId);
      return loop ? groupRows(loop, options) : [];
    }
    case 'group': {
      const loop = index.loops.find((l) => l.id === key.loopId);
      if (!loop) return [];
      const tasks = sortTasks(loop.tasks.filter((t) => t.state === key.state && matchesFilter(t, options.filter)), options.sort);
      return paged(parent.id, tasks, options.limits, (task) => taskItem(index, task, `${parent.id}/${task.id}`));
    }
    case 'deadlock':
      return key.cycle.map((id, i) => linkedTask(index, id, `${parent.id}/${i}`, 'in cycle'));
    case 'task': {
      const found = index.tasks.get(key.taskId);
      return found ? taskDetails(index, found.task, parent.id) : [];
    }
  }
}

function taskRoots(index: SnapshotIndex, options: TaskTreeOptions): ViewItem[] {
  const rows: ViewItem[] = [];
  for (const loop of index.loops) {
    loop.deadlocks.forEach((cycle, i) => rows.push(deadlockItem(index, loop, cycle, i)));
  }
  const loops = shownLoops(index);
  if (loops.length === 1) rows.push(...groupRows(loops[0], options));
  else rows.push(...loops.map((loop) => loopItem(loop)));
  if (options.filter && !loops.some((loop) => loop.tasks.some((t) => matchesFilter(t, options.filter)))) {
    rows.push(messageItem('no-match', `No task matches "${options.filter}"`, { id: 'filter' },
      'Change the filter, or clear it with the view\'s Clear Filter button.'));
  }
  return rows;
}

/** 'Deadlock: a → b → a': tasks that wait for each other, so none of them can resume. */
export function deadlockLabel(index: SnapshotIndex, cycle: readonly number[]): string {
  const names = cycle.map((id) => taskName(index, id));
  return `Deadlock: ${[...names, names[0]].join(' → ')}`;
}

function deadlockItem(index: SnapshotIndex, loop: LoopSnapshot, cycle: number[], i: number): TaskItem {
  return {
    id: `deadlock/${loop.id}/${i}`,
    label: deadlockLabel(index, cycle),
    tooltip: `These tasks of ${loopLabel(loop)} wait for each other: none of them can resume. Cancel one to break the cycle.`,
    icon: { id: 'warning', color: 'problemsWarningIcon.foreground' },
    collapsible: 'collapsed',
    key: { kind: 'deadlock', loopId: loop.id, cycle },
  };
}

function loopItem(loop: LoopSnapshot): TaskItem {
  const held = loop.state === 'paused';
  return {
    id: `loop${loop.id}`,
    label: loopLabel(loop),
    description: held ? `${count(loop.tasks.length)} ${loop.tasks.length === 1 ? 'task' : 'tasks'}` : loop.state,
    tooltip: held ? undefined : `This loop is ${loop.state}: its tasks are not shown.`,
    icon: { id: 'sync' },
    collapsible: held && loop.tasks.length > 0 ? 'expanded' : 'none',
    key: { kind: 'loop', loopId: loop.id },
  };
}

/** One row per state that has tasks ('Waiting (1,234)'), then a note if the snapshot left tasks out. */
function groupRows(loop: LoopSnapshot, options: TaskTreeOptions): ViewItem[] {
  const rows: ViewItem[] = [];
  for (const state of STATE_ORDER) {
    const all = loop.tasks.filter((t) => t.state === state);
    const shown = options.filter ? all.filter((t) => matchesFilter(t, options.filter)) : all;
    if (shown.length === 0) continue;
    const item: TaskItem = {
      id: `loop${loop.id}/${state}`,
      label: `${STATE_TITLES[state]} (${options.filter ? `${count(shown.length)} of ${count(all.length)}` : count(all.length)})`,
      icon: STATE_ICONS[state],
      collapsible: isFinished(state) && state !== 'failed' ? 'collapsed' : 'expanded',
      key: { kind: 'group', loopId: loop.id, state },
    };
    rows.push(item);
  }
  const listedLive = loop.tasks.filter((t) => !isFinished(t.state)).length;
  if (loop.tasksTotal > listedLive) {
    const unlisted = loop.tasksTotal - listedLive;
    rows.push(messageItem(`loop${loop.id}/unlisted`, `${count(unlisted)} more ${unlisted === 1 ? 'task' : 'tasks'} not fetched`,
      { id: 'info' }, `The snapshot lists the first ${count(listedLive)} of ${count(loop.tasksTotal)} live tasks of this loop.`));
  }
  return rows;
}

export function matchesFilter(task: TaskSnapshot, filter: string | undefined): boolean {
  if (!filter) return true;
  const wanted = filter.toLowerCase();
  return task.name.toLowerCase().includes(wanted) || task.coroutine.toLowerCase().includes(wanted);
}

/** 'consume · app.py:12 · Queue.get()': the coroutine, where it is suspended, what it awaits. */
export function taskDescription(task: TaskSnapshot): string {
  const where = task.location ? shortLocation(task.location) : undefined;
  const stats = task.stats && stepStatsShort(task.stats);
  if (task.state === 'failed') return joined(task.coroutine, where, task.exception && `raised ${task.exception}`, stats);
  if (task.state === 'done') return joined(task.coroutine, where, task.result !== undefined && `returned ${task.result}`, stats);
  return joined(task.coroutine, where, task.awaiting?.description, stats);
}

export function taskTooltip(index: SnapshotIndex, task: TaskSnapshot): string {
  const lines = [`Task ${task.name} (id ${task.id}): ${task.state}`, `coroutine ${task.coroutine}`];
  if (task.location) lines.push(`suspended at ${longLocation(task.location)}`);
  if (task.awaiting) lines.push(`awaits ${task.awaiting.description}`);
  if (task.awaitedBy.length) lines.push(`awaited by ${task.awaitedBy.map((id) => taskName(index, id)).join(', ')}`);
  if (task.createdAt) lines.push(`created at ${longLocation(task.createdAt)}`);
  lines.push(`${count(task.steps)} steps in the recorded history`);
  if (task.stats) lines.push(...stepStatsLines(task.stats));
  if (task.result !== undefined) lines.push(`result ${task.result}`);
  if (task.exception !== undefined) lines.push(`exception ${task.exception}`);
  return lines.join('\n');
}

function taskItem(index: SnapshotIndex, task: TaskSnapshot, id: string, relation?: string): TaskItem {
  const item: TaskItem = {
    id,
    label: relation ? `${relation}: ${task.name}` : task.name,
    description: taskDescription(task),
    tooltip: taskTooltip(index, task),
    contextValue: taskContextValue(task),
    icon: STATE_ICONS[task.state],
    collapsible: 'collapsed',
    taskId: task.id,
    key: { kind: 'task', taskId: task.id },
  };
  const reveal = task.location ?? task.createdAt;
  if (reveal) item.reveal = reveal;
  return item;
}

/** A task met through another (awaits, awaited by, in a cycle); a plain row if the snapshot left it out. */
function linkedTask(index: SnapshotIndex, taskId: number, id: string, relation: string): ViewItem {
  const found = index.tasks.get(taskId);
  if (found) return taskItem(index, found.task, id, relation);
  return messageItem(id, `${relation}: task ${taskId}`, { id: 'question' }, 'This task is not in the snapshot (it lists a limited number of tasks).');
}

/** Under a task: its await chain (innermost first), what it waits for, who waits for it, where it began. */
function taskDetails(index: SnapshotIndex, task: TaskSnapshot, parentId: string): ViewItem[] {
  const rows: ViewItem[] = task.stack.map((frame, i) => {
    const row: ViewItem = {
      id: `${parentId}/frame${i}`,
      label: frame.name,
      description: frame.path ? shortLocation({ path: frame.path, line: frame.line }) : `line ${frame.line}`,
      tooltip: frame.path ? longLocation({ path: frame.path, line: frame.line }) : undefined,
      contextValue: CONTEXT_VALUES.frame,
      icon: { id: i === 0 ? 'debug-stackframe' : 'debug-stackframe-dot' },
      collapsible: 'none',
      taskId: task.id,
    };
    if (frame.path) row.reveal = { path: frame.path, line: frame.line };
    return row;
  });
  const awaited = index.awaits.get(task.id) ?? [];
  for (const id of awaited) rows.push(linkedTask(index, id, `${parentId}/awaits${id}`, 'awaits'));
  if (task.awaiting && !(task.awaiting.kind === 'task' && task.awaiting.id !== undefined && awaited.includes(task.awaiting.id))) {
    rows.push(messageItem(`${parentId}/awaiting`, `awaits: ${task.awaiting.description}`,
      { id: task.awaiting.kind === 'sleep' ? 'clock' : 'circle-large-outline' }));
  }
  for (const id of task.awaitedBy) rows.push(linkedTask(index, id, `${parentId}/awaitedBy${id}`, 'awaited by'));
  if (task.createdAt) {
    rows.push({
      id: `${parentId}/created`, label: 'created at', description: shortLocation(task.createdAt),
      tooltip: longLocation(task.createdAt), icon: { id: 'add' }, collapsible: 'none', reveal: task.createdAt,
    });
  }
  if (task.stats) rows.push(...stepStatsRows(parentId, task.stats));
  if (task.result !== undefined) rows.push(messageItem(`${parentId}/result`, `returned ${task.result}`, { id: 'pass' }));
  if (task.exception !== undefined) {
    rows.push(messageItem(`${parentId}/exception`, `raised ${task.exception}`, { id: 'error', color: 'errorForeground' }));
  }
  return rows;
}

/**
 * The await chain as text for the clipboard, innermost frame first:
 *   Task consumer-2 (consume), waiting: Queue.get()
 *     consume  /app/main.py:12
 */
export function awaitChainText(task: TaskSnapshot): string {
  const head = `Task ${task.name} (${task.coroutine}), ${task.state}${task.awaiting ? `: ${task.awaiting.description}` : ''}`;
  const width = Math.max(0, ...task.stack.map((f) => f.name.length));
  const frames = task.stack.map((f) => `  ${f.name.padEnd(width)}  ${f.path ? `${f.path}:${f.line}` : `line ${f.line}`}`);
  return [head, ...frames].join('\n') + '\n';
}
