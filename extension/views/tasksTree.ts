// The Asyncio Tasks view as pure functions of what the runtime answered: deadlock warnings, the
// groups of tasks with counts over all of them (per loop when there are several), a page of a group,
// and under each task its await chain and the tasks it waits for or is awaited by. No `vscode`
// import; tasksView.ts fetches (loopscope/snapshot, loopscope/tasks) and calls these.
import type { Actor, Blocker, Deadlock, LoopSnapshot, TaskGroupBy, TaskRef, TaskSnapshot, TasksBody } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';
import { TaskState, isFinished, loopLabel, taskContextValue } from './snapshotIndex';
import { stepStatsLines, stepStatsRows, stepStatsShort } from './stepStatsText';
import {
  PAGE_SIZE, PageLimits, ViewIcon, ViewItem, count, joined, longLocation, messageItem, plural, shortLocation,
} from './viewItem';

export type TaskKey =
  | { kind: 'loop'; loopId: number }
  | { kind: 'group'; loopId: number; group: string }
  | { kind: 'deadlock'; loopId: number; deadlock: Deadlock }
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
  blocker: 'what they wait on (lock, queue, event, socket…)',
};

/**
 * The top rows: a warning per deadlock, then the groups of the one loop shown, or a row per loop.
 * groups holds the runtime's answer (the groups of matching tasks) for each held loop.
 */
export function taskRoots(loops: readonly LoopSnapshot[], groups: ReadonlyMap<number, TasksBody>, options: TaskTreeOptions): ViewItem[] {
  const rows: ViewItem[] = [];
  for (const loop of loops) loop.deadlocks.forEach((deadlock, i) => rows.push(deadlockItem(loop, deadlock, i)));
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

/** The warning row of a deadlock: 'Deadlock: a → b → a', 'Deadlock: event loop 1 waits for ever (3 tasks)'. */
export function deadlockLabel(deadlock: Deadlock): string {
  const names = deadlock.tasks.map((t) => t.name);
  switch (deadlock.kind) {
    case 'awaitCycle':
    case 'lockCycle':
      return `Deadlock: ${[...names, names[0]].join(' → ')}`;
    case 'idleLoop':
      return `Deadlock: the loop waits for ever (${plural(deadlock.total, 'task')} waiting)`;
    case 'lostWakeup':
      return `Lost wake-up: ${names.join(', ')} ${names.length === 1 ? 'waits' : 'wait'} on a future nothing can complete`;
    case 'lockOrderInversion':
      return 'Lock order inversion';
  }
}

/** The notification when a session reports a deadlock as it happens (DAP event loopscope/deadlock). */
export function deadlockNoticeText(deadlock: Deadlock): string {
  const names = deadlock.tasks.map((t) => t.name);
  const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${count(deadlock.total - 5)} more` : names.join(', ');
  return `${deadlock.description}${shown ? ` Stuck: ${shown}.` : ''}`;
}

function deadlockItem(loop: LoopSnapshot, deadlock: Deadlock, i: number): TaskItem {
  const advice = deadlock.kind === 'lostWakeup' ? 'Nothing refers to the future but the tasks waiting on it: whatever should have completed it has let it go.'
    : 'None of these tasks can resume. Cancel one to break the deadlock.';
  return {
    id: `deadlock/${loop.id}/${i}`,
    label: deadlockLabel(deadlock),
    tooltip: `${deadlock.description}\n${advice}`,
    icon: { id: 'warning', color: 'problemsWarningIcon.foreground' },
    collapsible: deadlock.tasks.length ? 'collapsed' : 'none',
    key: { kind: 'deadlock', loopId: loop.id, deadlock },
  };
}

/** The rows under a deadlock: the tasks stuck in it, and how many more there are. */
export function deadlockChildren(parent: TaskItem, loopId: number, deadlock: Deadlock): ViewItem[] {
  const rows: ViewItem[] = deadlock.tasks.map((ref, i) => refItem(ref, loopId, `${parent.id}/${i}`, 'stuck'));
  if (deadlock.total > deadlock.tasks.length) {
    rows.push(messageItem(`${parent.id}/more`, `${plural(deadlock.total - deadlock.tasks.length, 'more task')} stuck`, { id: 'info' },
      'Group the tasks by what they wait on to see them all.'));
  }
  return rows;
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
  const stats = task.stats && stepStatsShort(task.stats);
  if (task.state === 'failed') return joined(task.coroutine, where, task.exception && `raised ${task.exception}`, stats);
  if (task.state === 'done') return joined(task.coroutine, where, task.result !== undefined && `returned ${task.result}`, stats);
  return joined(task.coroutine, where, task.cancelling ? 'cancelling' : waitText(task), stats);
}

/** What a pending task waits on: its blocker ('Queue jobs, get: 0/3 items'), with the timeout it has. */
export function waitText(task: TaskSnapshot): string | undefined {
  const awaiting = task.awaiting?.description;
  if (!task.blockedOn) return awaiting;
  const timeout = awaiting && /(times out in [\d.]+ s|never times out)$/.exec(awaiting)?.[1];
  return timeout && task.blockedOn.kind !== 'timer' ? `${task.blockedOn.description}, ${timeout}` : task.blockedOn.description;
}

/** 'producer put into it at app.py:40 (iteration 12)'. */
export function actorText(actor: Actor): string {
  return joined(`${actor.taskName} ${actor.what}`, actor.location && `at ${shortLocation(actor.location)}`,
    actor.iteration !== undefined && `(iteration ${count(actor.iteration)})`).replace(/ · /g, ' ');
}

export function taskTooltip(task: TaskSnapshot): string {
  const lines = [`Task ${task.name} (id ${task.id}): ${task.cancelling ? 'cancelling' : task.state}`, `coroutine ${task.coroutine}`];
  if (task.cancelling) lines.push('Cancel was asked for: it raises CancelledError at its next step.');
  if (task.location) lines.push(`suspended at ${longLocation(task.location)}`);
  const waiting = waitText(task);
  if (waiting) lines.push(`waits on ${waiting}`);
  if (task.blockedOn?.createdAt) lines.push(`  made at ${longLocation(task.blockedOn.createdAt)}`);
  if (task.blockedOn?.lastActor) lines.push(`  last: ${actorText(task.blockedOn.lastActor)}`);
  if (task.wokenBy) lines.push(`last woken by ${actorText(task.wokenBy)}`);
  if (task.awaits?.length) lines.push(`waits for ${task.awaits.map((t) => t.name).join(', ')}`);
  if (task.awaitedBy.length) lines.push(`awaited by ${task.awaitedBy.map((t) => t.name).join(', ')}`);
  if (task.createdAt) lines.push(`created at ${longLocation(task.createdAt)}${task.createdBy?.length ? ` by ${task.createdBy[0].taskName}` : ''}`);
  lines.push(`${plural(task.steps, 'step')} in the recorded history`);
  if (task.stats) lines.push(...stepStatsLines(task.stats));
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
  if (task.blockedOn && task.blockedOn.kind !== 'task') {
    rows.push(...blockerRows(task.blockedOn, loopId, `${parentId}/blocker`, waitText(task)!));
  } else if (task.awaiting && !(task.awaiting.kind === 'task' && awaits.some((ref) => ref.id === task.awaiting!.id))) {
    rows.push(messageItem(`${parentId}/awaiting`, `awaits: ${task.awaiting.description}`,
      { id: task.awaiting.kind === 'sleep' ? 'clock' : 'circle-large-outline' }, task.awaiting.description));
  }
  for (const ref of task.awaitedBy) rows.push(refItem(ref, loopId, `${parentId}/awaitedBy${ref.id}`, 'awaited by'));
  if (task.wokenBy) rows.push(actorRow(task.wokenBy, `${parentId}/woken`, 'woken by', 'history'));
  if (task.createdAt) {
    rows.push({
      id: `${parentId}/created`, label: 'created at', description: shortLocation(task.createdAt),
      tooltip: longLocation(task.createdAt), icon: { id: 'add' }, collapsible: 'none', reveal: task.createdAt,
    });
  }
  (task.createdBy ?? []).forEach((creator, i) => {
    const row: ViewItem = {
      id: `${parentId}/creator${i}`, label: `created by: ${creator.taskName}`,
      description: creator.createdAt && `itself created at ${shortLocation(creator.createdAt)}`,
      icon: { id: 'type-hierarchy-super' }, collapsible: 'none', taskId: creator.taskId,
    };
    if (creator.createdAt) row.reveal = creator.createdAt;
    rows.push(row);
  });
  if (task.stats) rows.push(...stepStatsRows(parentId, task.stats));
  if (task.result !== undefined) rows.push(messageItem(`${parentId}/result`, `returned ${task.result}`, { id: 'pass' }, task.result));
  if (task.exception !== undefined) {
    rows.push(messageItem(`${parentId}/exception`, `raised ${task.exception}`, { id: 'error', color: 'errorForeground' }, task.exception));
  }
  return rows;
}

/** What a task waits on, its holders and who acted on it last. */
function blockerRows(blocker: Blocker, loopId: number, id: string, text: string): ViewItem[] {
  const row: ViewItem = {
    id, label: `waits on: ${text}`, tooltip: blocker.createdAt ? `${text}\nmade at ${longLocation(blocker.createdAt)}` : text,
    icon: { id: BLOCKER_ICONS[blocker.kind] ?? 'circle-large-outline' }, collapsible: 'none',
    description: blocker.createdAt && `made at ${shortLocation(blocker.createdAt)}`,
  };
  const reveal = blocker.location ?? blocker.createdAt;
  if (reveal) row.reveal = reveal;
  const rows: ViewItem[] = [row];
  for (const owner of blocker.owners ?? []) rows.push(refItem(owner, loopId, `${id}/owner${owner.id}`, 'held by'));
  if (blocker.lastActor) rows.push(actorRow(blocker.lastActor, `${id}/actor`, 'last', 'history'));
  return rows;
}

const BLOCKER_ICONS: Partial<Record<Blocker['kind'], string>> = {
  timer: 'clock', lock: 'lock', semaphore: 'lock', condition: 'bell', event: 'bell', barrier: 'debug-pause',
  queueGet: 'inbox', queuePut: 'inbox', queueJoin: 'inbox', streamRead: 'plug', streamWrite: 'plug', socket: 'plug',
  subprocess: 'terminal', executor: 'server-process', future: 'circle-large-outline',
};

function actorRow(actor: Actor, id: string, relation: string, icon: string): ViewItem {
  const row: ViewItem = {
    id, label: `${relation}: ${actor.taskName}`, description: actorText(actor).slice(actor.taskName.length + 1),
    icon: { id: icon }, collapsible: 'none',
  };
  if (actor.taskId !== undefined) row.taskId = actor.taskId;
  if (actor.location) row.reveal = actor.location;
  return row;
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
  const waiting = waitText(task);
  const head = `Task ${task.name} (${task.coroutine}), ${state}${waiting ? `: ${waiting}` : ''}`;
  const frames = [...task.stack].reverse().flatMap((f) => {
    const text = f.path ? sourceLine(f.path, f.line)?.trim() : undefined;
    const where = f.path ? `  File "${f.path}", line ${f.line}, in ${f.name}` : `  line ${f.line}, in ${f.name}`;
    return text ? [where, `    ${text}`] : [where];
  });
  return [head, ...frames].join('\n') + '\n';
}
