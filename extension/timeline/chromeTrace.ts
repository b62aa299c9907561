// The timeline (protocol.json Timeline) as Chrome Trace Event JSON, which Perfetto and
// chrome://tracing open: one process per event loop, with a track of its iterations (select()
// and handles inside each), one of plain callbacks, one of blocked steps and one per task; slices
// per step with their location, flow arrows from the waker to the woken, instant events for stops.
// Pure: the CLI, the export command and the timeline view all use it.
import type { Location, Timeline, TimelineStep, TimelineSubject } from '../adapter/protocol';

export interface TraceEvent {
  name: string;
  /** X: complete slice; i: instant; s/f: flow start/finish; M: metadata. */
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number | boolean>;
}

/** The fixed tracks of every loop (tids); a task's track is TASK_TID_BASE + its id. */
export const ITERATIONS_TID = 1;
export const CALLBACKS_TID = 2;
export const BLOCKED_TID = 3;
export const TASK_TID_BASE = 10;

const where = (location: Location | undefined) => (location ? `${location.path.split('/').pop()}:${location.line}` : undefined);

function locationArgs(location: Location | undefined): Record<string, unknown> {
  return location ? { location: where(location), path: location.path, line: location.line } : {};
}

export function tidOf(subject: Pick<TimelineSubject, 'id'>): number {
  return subject.id > 0 ? TASK_TID_BASE + subject.id : CALLBACKS_TID;
}

function stepName(step: TimelineStep, subject: TimelineSubject | undefined): string {
  if (!subject) return step.kind;
  return subject.id > 0 ? (subject.coroutine ?? subject.name) : subject.name;
}

export function chromeTrace(timeline: Timeline, program = 'asyncio program'): ChromeTrace {
  const events: TraceEvent[] = [];
  const meta = (pid: number, tid: number, name: string, value: Record<string, unknown>) =>
    events.push({ name, ph: 'M', ts: 0, pid, tid, args: value });
  const subjects = new Map(timeline.subjects.map((s) => [s.id, s]));

  for (const loop of timeline.loops) {
    meta(loop.id, 0, 'process_name', { name: loop.name });
    meta(loop.id, 0, 'process_sort_index', { sort_index: loop.id });
    meta(loop.id, ITERATIONS_TID, 'thread_name', { name: 'iterations' });
    meta(loop.id, ITERATIONS_TID, 'thread_sort_index', { sort_index: ITERATIONS_TID });
    meta(loop.id, CALLBACKS_TID, 'thread_name', { name: 'callbacks' });
    meta(loop.id, CALLBACKS_TID, 'thread_sort_index', { sort_index: CALLBACKS_TID });
    meta(loop.id, BLOCKED_TID, 'thread_name', { name: 'blocked steps' });
    meta(loop.id, BLOCKED_TID, 'thread_sort_index', { sort_index: BLOCKED_TID });
    for (const [iteration, start, selectEnd, end] of loop.iterations) {
      events.push({ name: `iteration ${iteration}`, ph: 'X', cat: 'iteration', ts: start, dur: Math.max(0, end - start), pid: loop.id, tid: ITERATIONS_TID, args: { iteration } });
      if (selectEnd > start) events.push({ name: 'select()', ph: 'X', cat: 'select', ts: start, dur: selectEnd - start, pid: loop.id, tid: ITERATIONS_TID });
      if (end > selectEnd) events.push({ name: 'handles', ph: 'X', cat: 'handles', ts: selectEnd, dur: end - selectEnd, pid: loop.id, tid: ITERATIONS_TID });
    }
  }
  const tracks = new Set<string>();
  for (const subject of timeline.subjects) {
    if (subject.id <= 0 || tracks.has(`${subject.loopId}/${subject.id}`)) continue;
    tracks.add(`${subject.loopId}/${subject.id}`);
    meta(subject.loopId, tidOf(subject), 'thread_name', { name: subject.coroutine ? `${subject.name} · ${subject.coroutine}` : subject.name });
    meta(subject.loopId, tidOf(subject), 'thread_sort_index', { sort_index: tidOf(subject) });
  }

  // Steps of one subject, by start, to find the step of a waker that made another one ready.
  const stepsOf = new Map<number, TimelineStep[]>();
  for (const step of timeline.steps) {
    const list = stepsOf.get(step.subject) ?? [];
    list.push(step);
    stepsOf.set(step.subject, list);
  }
  let flows = 0;
  for (const step of timeline.steps) {
    const subject = subjects.get(step.subject);
    const tid = subject ? tidOf(subject) : CALLBACKS_TID;
    const args: Record<string, unknown> = { kind: step.kind, iteration: step.iteration, ...locationArgs(step.location) };
    if (subject) args[subject.id > 0 ? 'task' : 'callback'] = subject.name;
    if (step.wokenBy !== undefined) args.wokenBy = subjects.get(step.wokenBy)?.name ?? step.wokenBy;
    if (step.wokenAt !== undefined) args.delayMs = Math.max(0, step.start - step.wokenAt) / 1000;
    events.push({ name: stepName(step, subject), ph: 'X', cat: step.kind, ts: step.start, dur: step.duration, pid: step.loopId, tid, args });
    const waker = step.wokenBy !== undefined ? wakerStep(stepsOf.get(step.wokenBy), step) : undefined;
    if (waker) {
      const wakerSubject = subjects.get(waker.subject);
      flows += 1;
      events.push({ name: 'woke', ph: 's', cat: 'wake', id: flows, ts: waker.start + waker.duration / 2, pid: waker.loopId, tid: wakerSubject ? tidOf(wakerSubject) : CALLBACKS_TID });
      events.push({ name: 'woke', ph: 'f', bp: 'e', cat: 'wake', id: flows, ts: step.start, pid: step.loopId, tid });
    }
  }
  for (const stop of timeline.stops) {
    events.push({ name: `stop: ${stop.label}`, ph: 'i', s: 'p', cat: 'stop', ts: stop.time, pid: stop.loopId, tid: ITERATIONS_TID, args: { description: stop.description } });
  }
  for (const mark of timeline.blocked) {
    const duration = mark.duration ?? 0;
    events.push({ name: 'loop blocked', ph: 'X', cat: 'blocked', ts: mark.time - duration, dur: duration, pid: mark.loopId, tid: BLOCKED_TID, args: { description: mark.description, ...locationArgs(mark.location) } });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      source: 'Loopscope', program, taskStepsRecorded: timeline.stepsRecorded,
      note: timeline.stepsRecorded ? 'Times are microseconds from the oldest event kept.'
        : 'Task steps are recorded with "stepStatistics": "tasks" in the launch configuration; this timeline has the loops\' iterations, stops and blocked steps.',
    },
  };
}

/** The waker's step that made step ready: its last step that started before step did. */
function wakerStep(steps: TimelineStep[] | undefined, step: TimelineStep): TimelineStep | undefined {
  if (!steps) return undefined;
  let found: TimelineStep | undefined;
  let low = 0;
  let high = steps.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (steps[middle].start < step.start) {
      found = steps[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
