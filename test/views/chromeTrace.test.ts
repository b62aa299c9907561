// The timeline → Chrome Trace Event JSON mapping, with plain data, checked against the format.
import * as assert from 'node:assert/strict';
import type { Timeline } from '../../extension/adapter/protocol';
import { BLOCKED_TID, CALLBACKS_TID, chromeTrace, ITERATIONS_TID, TASK_TID_BASE } from '../../extension/timeline/chromeTrace';
import { traceFormatProblems } from './traceEventFormat';

const TIMELINE: Timeline = {
  origin: 100.5,
  stepsRecorded: true,
  loops: [{ id: 1, name: 'Event loop 1 (MainThread)', iterations: [[1, 0, 10, 40], [2, 40, 40, 90]] }],
  subjects: [
    { id: 2, name: 'producer', coroutine: 'produce', loopId: 1, createdAt: { path: '/app/main.py', line: 30 } },
    { id: 3, name: 'consumer', coroutine: 'consume', loopId: 1 },
    { id: -1, name: 'futures._set_result_unless_cancelled', loopId: 1 },
  ],
  steps: [
    { subject: 2, loopId: 1, iteration: 1, start: 12, duration: 20, kind: 'step', location: { path: '/app/main.py', line: 12 } },
    { subject: -1, loopId: 1, iteration: 1, start: 33, duration: 2, kind: 'callback' },
    { subject: 3, loopId: 1, iteration: 2, start: 41, duration: 30, kind: 'wakeup', wokenBy: 2, wokenAt: 32 },
    { subject: 3, loopId: 1, iteration: 2, start: 75, duration: 5, kind: 'step', wokenBy: 99, wokenAt: 60 },
  ],
  stops: [{ time: 85, loopId: 1, label: 'loop blocked', description: 'Task consumer has blocked event loop 1' }],
  blocked: [{ time: 70, loopId: 1, label: 'loop blocked', description: 'blocked', duration: 25, location: { path: '/app/main.py', line: 20 } }],
};

describe('timeline as Chrome Trace Event JSON', () => {
  const trace = chromeTrace(TIMELINE, 'main.py');

  it('is valid Trace Event Format', () => {
    assert.deepEqual(traceFormatProblems(JSON.parse(JSON.stringify(trace))), []);
  });

  it('has a process per loop and a named track per task, for iterations, callbacks and blocked steps', () => {
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
    assert.deepEqual(names, [[ITERATIONS_TID, 'iterations'], [CALLBACKS_TID, 'callbacks'], [BLOCKED_TID, 'blocked steps'],
      [TASK_TID_BASE + 2, 'producer · produce'], [TASK_TID_BASE + 3, 'consumer · consume']]);
    assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name' && (e.args as { name: string }).name === 'Event loop 1 (MainThread)'));
  });

  it('shows each iteration with its select() and handles inside', () => {
    const iteration = trace.traceEvents.filter((e) => e.tid === ITERATIONS_TID && e.ph === 'X').map((e) => [e.name, e.ts, e.dur]);
    assert.deepEqual(iteration.slice(0, 3), [['iteration 1', 0, 40], ['select()', 0, 10], ['handles', 10, 30]]);
    assert.deepEqual(iteration[3], ['iteration 2', 40, 50]);
  });

  it('slices steps with their location and draws a flow from the waker to the woken', () => {
    const step = trace.traceEvents.find((e) => e.ph === 'X' && e.tid === TASK_TID_BASE + 2)!;
    assert.equal(step.name, 'produce');
    assert.deepEqual(step.args, { kind: 'step', iteration: 1, location: 'main.py:12', path: '/app/main.py', line: 12, task: 'producer' });
    const flow = trace.traceEvents.filter((e) => e.ph === 's' || e.ph === 'f');
    assert.deepEqual(flow.map((e) => [e.ph, e.tid, e.ts]), [['s', TASK_TID_BASE + 2, 22], ['f', TASK_TID_BASE + 3, 41]]);
    const woken = trace.traceEvents.find((e) => e.ph === 'X' && e.tid === TASK_TID_BASE + 3)!;
    assert.deepEqual([woken.args?.wokenBy, woken.args?.delayMs], ['producer', 0.009]);
  });

  it('marks stops as instants and blocked steps as slices of their own track', () => {
    assert.deepEqual(trace.traceEvents.filter((e) => e.ph === 'i').map((e) => [e.name, e.ts]), [['stop: loop blocked', 85]]);
    const blocked = trace.traceEvents.find((e) => e.tid === BLOCKED_TID && e.ph === 'X')!;
    assert.deepEqual([blocked.ts, blocked.dur, blocked.args?.location], [45, 25, 'main.py:20']);
  });

  it('says how to record task steps when they were not', () => {
    const loopsOnly = chromeTrace({ ...TIMELINE, steps: [], subjects: [], stepsRecorded: false });
    assert.match(String(loopsOnly.otherData.note), /"stepStatistics": "tasks"/);
    assert.deepEqual(traceFormatProblems(loopsOnly), []);
  });

  it('the checker finds what Perfetto would refuse', () => {
    const broken = { traceEvents: [
      { name: 'a', ph: 'X', ts: 0, dur: 10, pid: 1, tid: 1 }, { name: 'b', ph: 'X', ts: 5, dur: 10, pid: 1, tid: 1 },
      { name: 'w', ph: 's', ts: 50, pid: 1, tid: 1, id: 1, cat: 'wake' }, { name: 'z', ph: 'Q', ts: NaN, pid: 1, tid: 1 },
    ] };
    const problems = traceFormatProblems(broken).join('\n');
    assert.match(problems, /overlaps a without nesting/);
    assert.match(problems, /needs both a start and a finish/);
    assert.match(problems, /unknown phase Q/);
    assert.match(problems, /ts must be a finite number/);
  });
});
