// Step and loop statistics in the views: the Asyncio Tasks view's orders and stats rows, the Event
// Loop view's statistics, the lints as problems, and what the timeline view draws.
import * as assert from 'node:assert/strict';
import type { LoopStats, StepStats } from '../../extension/adapter/protocol';
import { lintLine, lintProblem } from '../../extension/problems/lintDiagnostics';
import { chromeTrace } from '../../extension/timeline/chromeTrace';
import { layoutTimeline, sliceAt } from '../../extension/timeline/timelineLayout';
import { eventLoopChildren, EventLoopItem } from '../../extension/views/eventLoopTree';
import { BUCKET_LABELS, formatMs, histogramText } from '../../extension/views/stepStatsText';
import { taskDescription, taskDetails } from '../../extension/views/tasksTree';
import { labels, loop, snapshot, task } from './snapshots';

function stats(totalMs: number, longestMs: number, delayLongestMs = 0, fields: Partial<StepStats> = {}): StepStats {
  return { steps: 10, totalMs, longestMs, delayTotalMs: delayLongestMs, delayLongestMs, selfWakes: 0,
    durations: [0, 8, 2, 0, 0, 0, 0], delays: [10, 0, 0, 0, 0, 0, 0], ...fields };
}

const LOOP_STATS: LoopStats = {
  iterations: 500, seconds: 0.25, iterationsPerSecond: 2000, selectSeconds: 0.2, handleSeconds: 0.05,
  longestIterationMs: 12.5, longestIteration: 42, iterationTimes: [100, 300, 90, 10, 0, 0, 0], blocked: 2,
};

const index = () => snapshot(loop(1, {
  stats: LOOP_STATS,
  callbackStats: [{ callback: 'futures._set_result_unless_cancelled', stats: stats(3, 0.2) }],
  tasks: [
    task(1, 'quick', { stats: stats(1, 0.5, 9) }),
    task(2, 'hog', { stats: stats(40, 30, 1, { longestAt: { path: '/app/main.py', line: 12 }, selfWakes: 4 }) }),
    task(3, 'steady', { stats: stats(20, 2, 3) }),
    task(4, 'unmeasured'),
  ],
}));

describe('step statistics in the views', () => {
  it('shows each task\'s steps and longest step beside it', () => {
    const data = index();
    assert.equal(taskDescription(data.loops[0].tasks[1]), 'hog · 10 steps, longest 30.0 ms');
  });

  it('shows a task\'s statistics under it, the longest step leading to its line', () => {
    const data = index();
    const hog = data.tasks.get(2)!.task;
    const rows = taskDetails(hog, 1, 't2');
    const summary = rows.find((r) => r.id === 't2/stats')!;
    assert.equal(summary.label, '10 steps, 40.0 ms running, longest 30.0 ms (then suspended at main.py:12)');
    assert.deepEqual(summary.reveal, hog.stats!.longestAt);
    assert.match(summary.tooltip!, /woke itself 4 times/);
    assert.match(summary.tooltip!, /step times: 10 µs–100 µs: 8 · 100 µs–1 ms: 2/);
    assert.equal(rows.find((r) => r.id === 't2/delays')!.label, 'waited 1.00 ms from ready to running, longest 1.00 ms');
  });

  it('shows a loop\'s statistics in the Event Loop view', () => {
    const data = index();
    const parts = eventLoopChildren(data, { id: 'loop1', label: 'x', collapsible: 'expanded', key: { kind: 'loop', loopId: 1 } } as EventLoopItem, new Map());
    const statsRow = parts.find((r) => r.label === 'Statistics')! as EventLoopItem;
    const rows = eventLoopChildren(data, statsRow, new Map());
    assert.deepEqual(labels(rows), ['2,000 iterations/s', 'select() 80% · handles 20%', 'Longest iteration 12.5 ms', 'Blocked 2 times',
      'futures._set_result_unless_cancelled']);
    assert.match(rows[2].tooltip!, /^Iteration 42 ran handles for 12\.5 ms/);
  });

  it('names the duration buckets from the protocol\'s bounds', () => {
    assert.deepEqual(BUCKET_LABELS, ['<10 µs', '10 µs–100 µs', '100 µs–1 ms', '1 ms–10 ms', '10 ms–100 ms', '100 ms–1 s', '≥1 s']);
    assert.equal(histogramText([0, 0, 0, 0, 0, 0, 0]), 'none');
    assert.deepEqual([formatMs(0.35), formatMs(12.34), formatMs(1250)], ['0.350 ms', '12.3 ms', '1.25 s']);
  });
});

describe('lints as problems', () => {
  const lint = {
    kind: 'exceptionNeverRetrieved' as const, message: 'Task t failed', location: { path: '/app/main.py', line: 14 },
    related: [{ location: { path: '/app/main.py', line: 40 }, message: 'Task t was created here' }],
  };
  it('become errors or warnings at their 0-based line, with the related places', () => {
    assert.deepEqual(lintProblem(lint), {
      path: '/app/main.py', line: 13, message: 'Task t failed', severity: 'error', code: 'exception never retrieved',
      related: [{ path: '/app/main.py', line: 39, message: 'Task t was created here' }],
    });
    assert.equal(lintProblem({ ...lint, kind: 'blockingCall' }).severity, 'warning');
  });
  it('print as compilers print them', () => {
    assert.equal(lintLine(lint, '/app'), 'main.py:14: error: Task t failed [exception never retrieved]');
  });
});

describe('the timeline view', () => {
  const trace = chromeTrace({
    origin: 0, stepsRecorded: true, loops: [{ id: 1, name: 'Event loop 1 (MainThread)', iterations: [[1, 0, 10, 40]] }],
    subjects: [{ id: 2, name: 'producer', coroutine: 'produce', loopId: 1 }, { id: 3, name: 'consumer', coroutine: 'consume', loopId: 1 }],
    steps: [
      { subject: 2, loopId: 1, iteration: 1, start: 12, duration: 10, kind: 'step', location: { path: '/app/main.py', line: 7 } },
      { subject: 3, loopId: 1, iteration: 1, start: 25, duration: 10, kind: 'wakeup', wokenBy: 2, wokenAt: 22 },
    ],
    stops: [{ time: 39, loopId: 1, label: 'pause', description: 'Paused' }], blocked: [],
  });
  const layout = layoutTimeline(trace);

  it('has a row per track, in track order, and slices nested by depth', () => {
    assert.deepEqual(layout.rows.map((r) => r.label), ['iterations', 'callbacks', 'blocked steps', 'producer · produce', 'consumer · consume']);
    const iterationRow = layout.slices.filter((s) => s.row === 0).map((s) => [s.name, s.depth]);
    assert.deepEqual(iterationRow, [['iteration 1', 0], ['select()', 1], ['handles', 1]]);
    assert.deepEqual([layout.start, layout.end], [0, 40]);
  });

  it('finds the step under a click, with its line, and draws the arrow from its waker', () => {
    assert.deepEqual(sliceAt(layout, 3, 15)?.location, { path: '/app/main.py', line: 7 });
    assert.equal(sliceAt(layout, 0, 5)?.name, 'select()');
    assert.equal(sliceAt(layout, 3, 30), undefined);
    assert.deepEqual(layout.arrows, [{ fromRow: 3, fromTime: 17, toRow: 4, toTime: 25 }]);
    assert.deepEqual(layout.instants.map((i) => [i.row, i.time, i.title]), [[0, 39, 'Paused']]);
  });
});

