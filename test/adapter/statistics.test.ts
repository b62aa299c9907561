// Step statistics in the snapshot (issue #17): per loop always, per task and per callback with
// "stepStatistics": "tasks", counted exactly from the first step.
import * as assert from 'node:assert/strict';
import type { LoopSnapshot, SnapshotBody, TasksBody, Timeline } from '../../extension/adapter/protocol';
import { chromeTrace } from '../../extension/timeline/chromeTrace';
import { traceFormatProblems } from '../views/traceEventFormat';
import { fixture, markers, Session } from './harness';

const STATS = fixture('health/stats.py');
const line = markers(STATS);

let timelineAtTheMark: Timeline | undefined;

async function snapshotAtTheMark(launch: Record<string, unknown>): Promise<LoopSnapshot> {
  const session = new Session();
  await session.start();
  try {
    await session.launch({ program: STATS, ...launch }, () => session.client.setBreakpointsRequest({
      source: { path: STATS }, breakpoints: [{ line: line('measured') }],
    }));
    const stop = await session.nextStop();
    assert.equal(stop.body.reason, 'breakpoint');
    const { body } = await session.client.customRequest('loopscope/snapshot', {}) as { body: SnapshotBody };
    timelineAtTheMark = (await session.client.customRequest('loopscope/timeline', {})).body as Timeline;
    return body.loops[0];
  } finally {
    await session.stop();
  }
}

describe('step statistics', () => {
  it('counts every step of every task, its longest, its delays and self-wakes, with stepStatistics "tasks"', async () => {
    const loop = await snapshotAtTheMark({ stepStatistics: 'tasks' });
    const hog = loop.tasks.find((t) => t.name === 'hog')!;
    const quick = loop.tasks.find((t) => t.name === 'quick')!;
    // hog: three busy steps, then the one that waits for done; quick: five sleep(0)s, then the wait.
    assert.deepEqual([hog.stats?.steps, hog.stats?.selfWakes, quick.stats?.steps, quick.stats?.selfWakes], [4, 3, 6, 5]);
    assert.ok(hog.stats!.longestMs >= 20, `hog's longest step ${hog.stats!.longestMs} ms`);
    assert.ok(hog.stats!.totalMs >= 60, `hog ran ${hog.stats!.totalMs} ms`);
    assert.ok(quick.stats!.longestMs < hog.stats!.longestMs);
    assert.deepEqual(hog.stats!.longestAt, { path: STATS, line: line('hog-yields') });
    for (const task of [hog, quick]) {
      assert.equal(task.stats!.durations.length, 7);
      assert.equal(task.stats!.durations.reduce((a, b) => a + b), task.stats!.steps);
      assert.equal(task.stats!.delays.reduce((a, b) => a + b), task.stats!.steps);
    }
    // quick waited behind hog's busy steps to be run: its longest delay is one of them.
    assert.ok(quick.stats!.delayLongestMs >= 15, `quick's longest delay ${quick.stats!.delayLongestMs} ms`);
    assert.ok((loop.callbackStats ?? []).length > 0, 'plain callbacks by function');
  });

  it('sorts a group of tasks by their statistics in the runtime, over the whole group', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: STATS, stepStatistics: 'tasks' }, () => session.client.setBreakpointsRequest({
        source: { path: STATS }, breakpoints: [{ line: line('measured') }],
      }));
      const stop = await session.nextStop();
      const loopId = stop.body.loopscope.loopId;
      const page = async (sort: string) => (await session.client.customRequest('loopscope/tasks',
        { loopId, group: 'waiting', sort, count: 1 })).body as TasksBody;
      const [busiest, delayed] = [await page('busiest'), await page('mostDelayed')];
      assert.deepEqual(busiest.tasks!.map((t) => t.name), ['hog'], 'one page of one task: the busiest of the group');
      assert.equal(busiest.tasks![0].stats?.steps, 4);
      assert.deepEqual(delayed.tasks!.map((t) => t.name), ['quick'], 'quick waited behind hog\'s busy steps');
      assert.equal(busiest.groupTotal, delayed.groupTotal);
    } finally {
      await session.stop();
    }
  });

  it('keeps loop statistics always, and no task statistics by default', async () => {
    const loop = await snapshotAtTheMark({});
    assert.ok(loop.tasks.every((t) => t.stats === undefined));
    assert.equal(loop.callbackStats, undefined);
    const stats = loop.stats!;
    assert.ok(stats.iterations >= 5 && stats.iterations <= loop.iteration, `${stats.iterations} of ${loop.iteration} iterations`);
    assert.ok(stats.longestIterationMs >= 20, `longest iteration ${stats.longestIterationMs} ms`);
    // main sleeps 0.2 s while hog's steps take 0.06 s: the rest is select() and the loop's own work,
    // whose share a loaded machine stretches, so only select()'s being counted is asserted.
    assert.ok(stats.selectSeconds > 0, `select() ${stats.selectSeconds} s: main sleeps 0.2 s`);
    assert.ok(stats.selectSeconds + stats.handleSeconds >= 0.1, `select() ${stats.selectSeconds} s, handles ${stats.handleSeconds} s`);
    assert.ok(stats.handleSeconds >= 0.06, `handles ${stats.handleSeconds} s`);
    assert.equal(stats.iterationTimes.reduce((a, b) => a + b), stats.iterations);
  });

  it('answers loopscope/timeline with the steps, who woke whom and the stop, as a valid Chrome trace', async () => {
    await snapshotAtTheMark({ stepStatistics: 'tasks' });
    const timeline = timelineAtTheMark!;
    assert.equal(timeline.stepsRecorded, true);
    const hog = timeline.subjects.find((s) => s.name === 'hog')!;
    const hogSteps = timeline.steps.filter((s) => s.subject === hog.id);
    assert.equal(hogSteps.length, 4);
    assert.ok(hogSteps.slice(1).every((s) => s.wokenBy === hog.id && s.kind === 'step'), 'hog woke itself (sleep(0))');
    assert.ok(hogSteps[0].wokenBy !== undefined && hogSteps[0].wokenBy !== hog.id, 'main made hog ready');
    assert.deepEqual(timeline.stops.map((s) => s.label), ['breakpoint']);
    assert.ok(timeline.loops[0].iterations.length >= 5);
    assert.deepEqual(traceFormatProblems(chromeTrace(timeline)), []);
  });
});
