// The Task Switches view as a pure function of the 'loopscope/taskSwitches' answer: the most recent
// task steps and callbacks, newest first. No `vscode` import.
import type { TaskSwitch, TaskSwitchesBody } from '../adapter/protocol';
import { PageLimits, ViewItem, count, joined, paged, shortLocation } from './viewItem';

/** How many recent steps the view asks for; it shows them a page at a time. */
export const SWITCHES_REQUESTED = 500;

const LIST_ID = 'switches';

export function taskSwitchRows(body: TaskSwitchesBody, limits: PageLimits): ViewItem[] {
  return paged(LIST_ID, body.switches, limits, (step, i) => switchItem(step, i));
}

/** 'last 500 of 12,345 recorded steps', for the view's title bar. */
export function taskSwitchesSummary(body: TaskSwitchesBody): string {
  if (body.switches.length >= body.recorded) return `${count(body.recorded)} recorded steps`;
  return `last ${count(body.switches.length)} of ${count(body.recorded)} recorded steps`;
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

function switchItem(step: TaskSwitch, position: number): ViewItem {
  const isTask = step.taskId !== undefined;
  const item: ViewItem = {
    // Newest first: positions shift with every stop, and rows have no children to keep expanded.
    id: `${LIST_ID}/${position}`,
    label: isTask ? step.taskName ?? `task ${step.taskId}` : step.callback,
    description: joined(
      `iteration ${count(step.iteration)}`,
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
  if (isTask) item.taskId = step.taskId;
  return item;
}
