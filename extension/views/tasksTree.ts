// The Asyncio Tasks view as pure functions of what the runtime answered: deadlock warnings, the
// groups of tasks with counts over all of them (per loop when there are several), a page of a group,
// and under each task its await chain and the tasks it waits for or is awaited by. No `vscode`
// import; tasksView.ts fetches (loopscope/snapshot, loopscope/tasks) and calls these.
import type { LoopSnapshot, TaskGroupBy, TaskRef, TaskSnapshot, TasksBody } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';
import { TaskState, isFinished, loopLabel, taskContextValue } from './snapshotIndex';
import {
  PAGE_SIZE, PageLimits, ViewIcon, ViewItem, count, joined, longLocation, messageItem, plural, shortLocation,
} from './viewItem';

export type TaskKey =
  | { kind: 'loop'; loopId: number }
  | { kind: 'group'; loopId: number; group: string }
  | { kind: 'deadlock'; loopId: number; cycle: TaskRef[] }
  /** A task; its snapshot when the row was made from one, else the view fetches it by id. */
  | { kind: 'task'; loopId: number; taskId: number; task?: TaskSnapshot };

export type TaskItem = ViewItem<TaskKey>;

export interface TaskTreeOptions {
  groupBy: TaskGroupBy;
  /** Show only tasks whose name, coroutine, state or place contains this (any case); the runtime filters. */
  filter?: string;
  limits: PageLimits;
}

const STATE_TITLES: Record<TaskState, string> = {
  running: 'Running', ready: 'Ready', waiting: 'Waiting', failed: 'Failed', cancelled: 'Cancelled', done: 'Done',
};

export const STATE_ICONS: Record<TaskState, ViewIcon> = {
  running: { id: 'play', color: 'debugIcon.startForeground' },
  ready: { id: 'arrow-circle-right' },
  waiting: { id: 'watch' },
  failed: { id: 'error', color: 'errorForeground' },
  cancelled: { id: 'circle-slash' },
  done: { id: 'pass' },
};

export const GROUP_BY_TITLES: Record<TaskGroupBy, string> = {
  state: 'state', coroutine: 'coroutine', location: 'identical tasks (coroutine, place, call)', creator: 'creator',
};

/**
 * The top rows: a warning per deadlock, then the groups of the one loop shown, or a row per loop.
 * groups holds the runtime's answer (the groups of matching tasks) for each held loop.
 */
export function taskRoots(loops: readonly LoopSnapshot[], groups: ReadonlyMap<number, TasksBody>, options: TaskTreeOptions): ViewItem[] {
  const rows: ViewItem[] = [];
  for (const loop of loops) loop.deadlocks.forEach((cycle, i) => rows.push(deadlockItem(loop, cycle, i)));
  const shown = loops.filter((loop) => loop.state !== 'closed');
  if (shown.length === 1) {
    const body = groups.get(shown[0].id);
    rows.push(...(body ? groupRows(shown[0], body, options) : []));
  } else {
    rows.push(...shown.map((loop) => loopItem(loop, groups.get(loop.id))));
  }
  const matching = [...groups.values()].reduce((sum, body) => sum + body.matching, 0);
  if (options.filter && matching === 0) {
    rows.push(messageItem('no-match', `No task matches "${options.filter}"`, { id: 'filter' },
      'The runtime looked at every task of every held loop. Change the filter, or clear it with the view\'s Clear Filter button.'));
  }
  return rows;
}

/** 'Deadlock: a → b → a': tasks that wait for each other, so none of them can resume. */
export function deadlockLabel(cycle: readonly TaskRef[]): string {
  const names = cycle.map((t) => t.name);
  return `Deadlock: ${[...names, names[0]].join(' → ')}`;
}

function deadlockItem(loop: LoopSnapshot, cycle: TaskRef[], i: number): TaskItem {
  return {
    id: `deadlock/${loop.id}/${i}`,
    label: deadlockLabel(cycle),
    tooltip: `These tasks of ${loopLabel(loop)} wait for each other: none of them can resume. Cancel one to break the cycle.`,
    icon: { id: 'warning', color: 'problemsWarningIcon.foreground' },
    collapsible: 'collapsed',
    key: { kind: 'deadlock', loopId: loop.id, cycle },
  };
}

/** The rows under a deadlock: the tasks in the cycle. */
export function deadlockChildren(parent: TaskItem, loopId: number, cycle: readonly TaskRef[]): ViewItem[] {
  return cycle.map((ref, i) => refItem(ref, loopId, `${parent.id}/${i}`, 'in cycle'));
}

function loopItem(loop: LoopSnapshot, body: TasksBody | undefined): TaskItem {
  const held = loop.state === 'paused';
  const total = body?.total ?? 0;
  return {
    id: `loop${loop.id}`,
    label: loopLabel(loop),
    description: held ? plural(total, 'task') : loop.state,
    tooltip: held ? undefined : `This loop is ${loop.state}: its tasks are not shown.`,
    icon: { id: 'sync' },
    collapsible: held && total > 0 ? 'expanded' : 'none',
    key: { kind: 'loop', loopId: loop.id },
  };
}

/** A loop's groups: 'Waiting (1,234)' by state; '16 × worker · app.py:37 · Queue.get()' otherwise. */
export function groupRows(loop: LoopSnapshot, body: TasksBody, options: TaskTreeOptions): ViewItem[] {
  return (body.groups ?? []).map((group) => {
    const id = `loop${loop.id}/${options.groupBy}/${group.key}`;
    const key: TaskKey = { kind: 'group', loopId: loop.id, group: group.key };
    if (options.groupBy === 'state') {
      const state = group.key as TaskState;
      const all = loop.taskCounts[state] ?? group.count;
      return {
        id, key, icon: STATE_ICONS[state],
        label: `${STATE_TITLES[state]} (${options.filter ? `${count(group.count)} of ${count(all)}` : count(group.count)})`,
        collapsible: isFinished(state) && state !== 'failed' ? 'collapsed' : 'expanded',
      } as TaskItem;
    }
    return {
      id, key, icon: { id: 'layers' }, label: `${count(group.count)} × ${group.label}`,
      tooltip: `${plural(group.count, 'task')} grouped by ${GROUP_BY_TITLES[options.groupBy]}: ${group.label}`,
      collapsible: 'collapsed',
    } as TaskItem;
  });
}

/** One group's rows: its first page(s) of tasks (the runtime answered `page`), and a 'Show more…' row. */
export function groupChildren(parent: TaskItem, loopId: number, page: TasksBody, limits: PageLimits): ViewItem[] {
  const tasks = page.tasks ?? [];
  const rows: ViewItem[] = tasks.map((task) => taskItem(task, loopId, `${parent.id}/${task.id}`));
  const total = page.groupTotal ?? tasks.length;
  if (total > tasks.length) {
    const limit = limits.get(parent.id) ?? PAGE_SIZE;
    rows.push({
      id: `${parent.id}/more`, label: 'Show more…', description: `${count(tasks.length)} of ${count(total)} shown`,
      tooltip: `Show the next ${count(Math.min(PAGE_SIZE, total - limit))}.`, icon: { id: 'ellipsis' }, collapsible: 'none',
      moreOf: parent.id,
    });
  }
  return rows;
}

/** 'consume · app.py:12 · Queue.get()': the coroutine, where it is suspended, what it awaits. */
export function taskDescription(task: TaskSnapshot): string {
  const where = task.location ? shortLocation(task.location) : undefined;
  if (task.state === 'failed') return joined(task.coroutine, where, task.exception && `raised ${task.exception}`);
  if (task.state === 'done') return joined(task.coroutine, where, task.result !== undefined && `returned ${task.result}`);
  return joined(task.coroutine, where, task.cancelling ? 'cancelling' : task.awaiting?.description);
}

export function taskTooltip(task: TaskSnapshot): string {
  const lines = [`Task ${task.name} (id ${task.id}): ${task.cancelling ? 'cancelling' : task.state}`, `coroutine ${task.coroutine}`];
  if (task.cancelling) lines.push('Cancel was asked for: it raises CancelledError at its next step.');
  if (task.location) lines.push(`suspended at ${longLocation(task.location)}`);
  if (task.awaiting) lines.push(`awaits ${task.awaiting.description}`);
  if (task.awaits?.length) lines.push(`waits for ${task.awaits.map((t) => t.name).join(', ')}`);
  if (task.awaitedBy.length) lines.push(`awaited by ${task.awaitedBy.map((t) => t.name).join(', ')}`);
  if (task.createdAt) lines.push(`created at ${longLocation(task.createdAt)}`);
  lines.push(`${plural(task.steps, 'step')} in the recorded history`);
  if (task.result !== undefined) lines.push(`result ${task.result}`);
  if (task.exception !== undefined) lines.push(`exception ${task.exception}`);
  return lines.join('\n');
}

export function taskItem(task: TaskSnapshot, loopId: number, id: string, relation?: string): TaskItem {
  const item: TaskItem = {
    id,
    label: relation ? `${relation}: ${task.name}` : task.name,
    description: taskDescription(task),
    tooltip: taskTooltip(task),
    contextValue: taskContextValue(task),
    icon: task.cancelling ? { id: 'circle-slash', color: 'problemsWarningIcon.foreground' } : STATE_ICONS[task.state],
    collapsible: 'collapsed',
    taskId: task.id,
    key: { kind: 'task', loopId, taskId: task.id, task },
  };
  const reveal = task.location ?? task.createdAt;
  if (reveal) item.reveal = reveal;
  return item;
}

/** A task met through another (awaits, awaited by, in a cycle): named by the reference; expanding it fetches it. */
function refItem(ref: TaskRef, loopId: number, id: string, relation: string): TaskItem {
  const item: TaskItem = {
    id, label: `${relation}: ${ref.name}`, description: joined(ref.state, ref.location && shortLocation(ref.location)),
    icon: STATE_ICONS[ref.state], contextValue: taskContextValue(ref), collapsible: 'collapsed', taskId: ref.id,
    key: { kind: 'task', loopId, taskId: ref.id },
  };
  if (ref.location) item.reveal = ref.location;
  return item;
}

/** Under a task: its await chain (innermost first), what it waits for, who waits for it, where it began. */
export function taskDetails(task: TaskSnapshot, loopId: number, parentId: string): ViewItem[] {
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
  const awaits = task.awaits ?? [];
  for (const ref of awaits) rows.push(refItem(ref, loopId, `${parentId}/awaits${ref.id}`, 'awaits'));
  if (task.awaiting && !(task.awaiting.kind === 'task' && awaits.some((ref) => ref.id === task.awaiting!.id))) {
    rows.push(messageItem(`${parentId}/awaiting`, `awaits: ${task.awaiting.description}`,
      { id: task.awaiting.kind === 'sleep' ? 'clock' : 'circle-large-outline' }, task.awaiting.description));
  }
  for (const ref of task.awaitedBy) rows.push(refItem(ref, loopId, `${parentId}/awaitedBy${ref.id}`, 'awaited by'));
  if (task.createdAt) {
    rows.push({
      id: `${parentId}/created`, label: 'created at', description: shortLocation(task.createdAt),
      tooltip: longLocation(task.createdAt), icon: { id: 'add' }, collapsible: 'none', reveal: task.createdAt,
    });
  }
  if (task.result !== undefined) rows.push(messageItem(`${parentId}/result`, `returned ${task.result}`, { id: 'pass' }, task.result));
  if (task.exception !== undefined) {
    rows.push(messageItem(`${parentId}/exception`, `raised ${task.exception}`, { id: 'error', color: 'errorForeground' }, task.exception));
  }
  return rows;
}

/**
 * The await chain as a traceback, outermost call first as Python prints one, with the source line
 * of each frame when sourceLine can tell it:
 *   Task consumer-2 (consume), waiting: Queue.get()
 *     File "/app/main.py", line 12, in consume
 *       item = await queue.get()
 */
export function awaitChainText(task: TaskSnapshot, sourceLine: (path: string, line: number) => string | undefined = () => undefined): string {
  const state = task.cancelling ? 'cancelling' : task.state;
  const head = `Task ${task.name} (${task.coroutine}), ${state}${task.awaiting ? `: ${task.awaiting.description}` : ''}`;
  const frames = [...task.stack].reverse().flatMap((f) => {
    const text = f.path ? sourceLine(f.path, f.line)?.trim() : undefined;
    const where = f.path ? `  File "${f.path}", line ${f.line}, in ${f.name}` : `  line ${f.line}, in ${f.name}`;
    return text ? [where, `    ${text}`] : [where];
  });
  return [head, ...frames].join('\n') + '\n';
}
