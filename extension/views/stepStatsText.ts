// Step and loop statistics (protocol.json StepStats, LoopStats) in words, and the task orders the
// Asyncio Tasks view offers. Pure: tasksTree.ts and eventLoopTree.ts use it, test/views checks it.
import {
  DURATION_BUCKET_BOUNDS, LoopSnapshot, StepStats, TASK_SORT_DESCRIPTIONS, TASK_SORT_LABELS, TASK_SORT_VALUES, TaskSort,
} from '../adapter/protocol';
import { count, messageItem, ViewItem } from './viewItem';

export type { TaskSort };

export const TASK_SORTS: Readonly<Record<TaskSort, { label: string; detail: string }>> = Object.fromEntries(
  TASK_SORT_VALUES.map((sort) => [sort, { label: TASK_SORT_LABELS[sort], detail: TASK_SORT_DESCRIPTIONS[sort] }]),
) as Record<TaskSort, { label: string; detail: string }>;

/** '0.35 ms', '12.3 ms', '1.25 s'. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(ms >= 1 ? 2 : 3)} ms`;
}

function seconds(bound: number): string {
  return bound >= 1 ? `${bound} s` : bound >= 1e-3 ? `${bound * 1e3} ms` : `${Math.round(bound * 1e6)} µs`;
}

/** The buckets' names: '<10 µs', '10 µs–100 µs', ..., '≥1 s'. */
export const BUCKET_LABELS: readonly string[] = [
  `<${seconds(DURATION_BUCKET_BOUNDS[0])}`,
  ...DURATION_BUCKET_BOUNDS.slice(1).map((bound, i) => `${seconds(DURATION_BUCKET_BOUNDS[i])}–${seconds(bound)}`),
  `≥${seconds(DURATION_BUCKET_BOUNDS[DURATION_BUCKET_BOUNDS.length - 1])}`,
];

/** '<10 µs: 120 · 10 µs–100 µs: 3' (empty buckets left out). */
export function histogramText(counts: readonly number[]): string {
  const parts = counts.map((n, i) => (n ? `${BUCKET_LABELS[i]}: ${count(n)}` : '')).filter(Boolean);
  return parts.length ? parts.join(' · ') : 'none';
}

/** '1,234 steps, longest 2.10 ms': the few words beside a task. */
export function stepStatsShort(stats: StepStats): string {
  return `${count(stats.steps)} ${stats.steps === 1 ? 'step' : 'steps'}, longest ${formatMs(stats.longestMs)}`;
}

/** The lines a task's tooltip gets. */
export function stepStatsLines(stats: StepStats): string[] {
  const where = stats.longestAt ? ` (then suspended at ${stats.longestAt.path.split('/').pop()}:${stats.longestAt.line})` : '';
  return [
    `${count(stats.steps)} steps, ${formatMs(stats.totalMs)} running, longest ${formatMs(stats.longestMs)}${where}`,
    `waited ${formatMs(stats.delayTotalMs)} from ready to running, longest ${formatMs(stats.delayLongestMs)}`,
    ...(stats.selfWakes ? [`woke itself ${count(stats.selfWakes)} times (asyncio.sleep(0))`] : []),
    `step times: ${histogramText(stats.durations)}`,
    `scheduling delays: ${histogramText(stats.delays)}`,
  ];
}

/** Rows under a task in the Asyncio Tasks view: its statistics. */
export function stepStatsRows(parentId: string, stats: StepStats): ViewItem[] {
  const [summary, delays, ...rest] = stepStatsLines(stats);
  return [
    { ...messageItem(`${parentId}/stats`, summary, { id: 'pulse' }, rest.join('\n')), reveal: stats.longestAt },
    messageItem(`${parentId}/delays`, delays, { id: 'history' }, rest.join('\n')),
  ];
}

/** The rows of a loop's statistics in the Event Loop view. */
export function loopStatsRows(loop: LoopSnapshot): ViewItem[] {
  const stats = loop.stats;
  if (!stats) return [];
  const id = `loop${loop.id}/stats`;
  const busy = stats.selectSeconds + stats.handleSeconds;
  const share = (part: number) => (busy > 0 ? `${Math.round((part / busy) * 100)}%` : '0%');
  const rows: ViewItem[] = [
    messageItem(`${id}/rate`, `${count(Math.round(stats.iterationsPerSecond))} iterations/s`, { id: 'dashboard' },
      `${count(stats.iterations)} iterations in ${stats.seconds.toFixed(3)} s (time held by the debugger left out)`),
    messageItem(`${id}/split`, `select() ${share(stats.selectSeconds)} · handles ${share(stats.handleSeconds)}`, { id: 'pie-chart' },
      `${stats.selectSeconds.toFixed(3)} s waiting in select() for I/O or the next timer, ${stats.handleSeconds.toFixed(3)} s running handles`),
    messageItem(`${id}/longest`, `Longest iteration ${formatMs(stats.longestIterationMs)}`, { id: 'watch' },
      `Iteration ${count(stats.longestIteration)} ran handles for ${formatMs(stats.longestIterationMs)} without going back to select(): the longest the loop could not react to I/O.\nHandle phases: ${histogramText(stats.iterationTimes)}`),
  ];
  if (stats.blocked) {
    rows.push(messageItem(`${id}/blocked`, `Blocked ${count(stats.blocked)} ${stats.blocked === 1 ? 'time' : 'times'}`,
      { id: 'warning', color: 'problemsWarningIcon.foreground' }, 'Steps found holding the loop past the Loop blocked threshold (see the Problems panel).'));
  }
  for (const [i, entry] of (loop.callbackStats ?? []).slice(0, 10).entries()) {
    rows.push(messageItem(`${id}/callback${i}`, entry.callback, { id: 'symbol-event' }, stepStatsLines(entry.stats).join('\n')));
    rows[rows.length - 1].description = `${formatMs(entry.stats.totalMs)} in ${stepStatsShort(entry.stats)}`;
  }
  return rows;
}
