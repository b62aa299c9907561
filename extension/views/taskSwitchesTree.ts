// The Task Switches view as a pure function of the 'loopscope/taskSwitches' answer: the most recent
// loop iterations, newest first, each with the task steps and callbacks it ran, and a row for every
// stretch of iterations that ran without being recorded. No `vscode` import.
import type { TaskSwitch, TaskSwitchesBody } from '../adapter/protocol';
import { CONTEXT_VALUES } from '../contributionIds';
import { PageLimits, ViewItem, count, joined, paged, plural, shortLocation } from './viewItem';

/** How many recent steps the view asks for; it shows them a page at a time. */
export const SWITCHES_REQUESTED = 500;

const LIST_ID = 'switches';

export type SwitchKey = { kind: 'iteration'; loopId: number; iteration: number };

/** The top rows: one per iteration (newest first, the newest open) or per gap; under an iteration, its steps. */
export function taskSwitchRows(body: TaskSwitchesBody, parent: ViewItem<SwitchKey> | undefined, limits: PageLimits): ViewItem[] {
  const several = new Set(body.switches.map((s) => s.loopId)).size > 1;
  if (parent?.key) {
    const { loopId, iteration } = parent.key;
    return body.switches.filter((s) => !s.gap && s.loopId === loopId && s.iteration === iteration)
      .map((step, i) => switchItem(step, `${parent.id}/${i}`));
  }
  return paged(LIST_ID, iterationsOf(body.switches), limits, (steps, i) => (steps[0].gap ? gapItem(steps[0], several)
    : iterationItem(steps, several, i === 0)));
}

/** Consecutive entries of the same loop and iteration together, in the answer's order; a gap alone. */
function iterationsOf(switches: readonly TaskSwitch[]): TaskSwitch[][] {
  const groups: TaskSwitch[][] = [];
  for (const step of switches) {
    const last = groups[groups.length - 1];
    if (!step.gap && last && !last[0].gap && last[0].loopId === step.loopId && last[0].iteration === step.iteration) last.push(step);
    else groups.push([step]);
  }
  return groups;
}

function iterationItem(steps: TaskSwitch[], several: boolean, newest: boolean): ViewItem<SwitchKey> {
  const [first] = steps;
  const total = steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0);
  return {
    id: `${LIST_ID}/${first.loopId}/${first.iteration}`,
    label: `Iteration ${count(first.iteration)}${several ? ` · loop ${first.loopId}` : ''}`,
    description: joined(plural(steps.length, 'step'), total > 0 && formatDuration(total), `t=${first.time.toFixed(3)}`),
    tooltip: `Iteration ${count(first.iteration)} of event loop ${first.loopId}, begun at loop time ${first.time.toFixed(3)}: `
      + `${plural(steps.length, 'handle')} ran${total > 0 ? ` for ${formatDuration(total)}` : ''}.`,
    icon: { id: 'debug-step-over' },
    collapsible: newest ? 'expanded' : 'collapsed',
    key: { kind: 'iteration', loopId: first.loopId, iteration: first.iteration },
  };
}

const GAP_WHY = {
  ranFreely: 'ran freely: not recorded',
  onlyMatchingTasks: 'only the steps of tasks a function breakpoint may match were recorded',
} as const;

function gapItem(step: TaskSwitch, several: boolean): ViewItem {
  const gap = step.gap!;
  const span = gap.fromIteration === gap.toIteration ? `Iteration ${count(gap.fromIteration)}`
    : `Iterations ${count(gap.fromIteration)}–${count(gap.toIteration)}`;
  return {
    id: `${LIST_ID}/${step.loopId}/gap/${gap.fromIteration}`,
    label: `${span}${several ? ` · loop ${step.loopId}` : ''}`,
    description: GAP_WHY[gap.why],
    tooltip: `${span} of event loop ${step.loopId} ${gap.why === 'ranFreely'
      ? 'ran while nothing recorded task switches (the program ran freely). Set "taskSwitchHistory": "always" to record them all.'
      : 'ran with function breakpoints set: only the steps of tasks that may match them were recorded.'}`,
    icon: { id: 'dash' },
    collapsible: 'none',
  };
}

/** 'last 500 of 12,345 recorded steps', for the view's title bar. */
export function taskSwitchesSummary(body: TaskSwitchesBody): string {
  const shown = body.switches.filter((s) => !s.gap).length;
  if (shown >= body.recorded) return `${plural(body.recorded, 'recorded step')}`;
  return `last ${count(shown)} of ${plural(body.recorded, 'recorded step')}`;
}

/** 'app.py:10 → app.py:14', or whichever end is known. */
export function switchPath(step: TaskSwitch): string | undefined {
  if (step.resumedAt && step.suspendedAt) return `${shortLocation(step.resumedAt)} → ${shortLocation(step.suspendedAt)}`;
  if (step.resumedAt) return `from ${shortLocation(step.resumedAt)}`;
  if (step.suspendedAt) return `to ${shortLocation(step.suspendedAt)}`;
  return undefined;
}

export function formatDuration(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function switchItem(step: TaskSwitch, id: string): ViewItem {
  const isTask = step.taskId !== undefined;
  const item: ViewItem = {
    id,
    label: isTask ? step.taskName ?? `task ${step.taskId}` : step.callback,
    description: joined(
      isTask && step.callback,
      switchPath(step),
      step.durationMs !== undefined && formatDuration(step.durationMs),
    ),
    tooltip: [
      `Iteration ${count(step.iteration)} of event loop ${step.loopId}, loop time ${step.time.toFixed(3)}`,
      isTask ? `Task ${step.taskName ?? step.taskId}${step.coroutine ? ` (${step.coroutine})` : ''}: ${step.callback}` : step.callback,
      step.resumedAt && `resumed at ${step.resumedAt.path}:${step.resumedAt.line}`,
      step.suspendedAt && `suspended at ${step.suspendedAt.path}:${step.suspendedAt.line}`,
      step.durationMs !== undefined && `ran for ${formatDuration(step.durationMs)}`,
    ].filter(Boolean).join('\n'),
    icon: { id: isTask ? 'debug-step-into' : 'symbol-event' },
    collapsible: 'none',
  };
  const reveal = step.resumedAt ?? step.suspendedAt;
  if (reveal) item.reveal = reveal;
  if (isTask) {
    item.taskId = step.taskId;
    item.contextValue = CONTEXT_VALUES.taskSwitch;
  }
  return item;
}
