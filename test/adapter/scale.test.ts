// Thousands of tasks through the bundled adapter (issue #13, 1-3): counts, groups, filters and
// pages come from the runtime over every task; the task a stop is about is a thread whatever the
// thread cap; Task Switches says which iterations ran unrecorded.
import * as assert from 'node:assert/strict';
import type { TaskSwitch, TasksBody } from '../../extension/adapter/protocol';
import { fixture, markers, Session, Stop } from './harness';

const THOUSANDS = fixture('thousands.py');
const line = markers(THOUSANDS);
const WAITERS = 2000;
const SPINNERS = 100;

describe('at scale: 2,000 waiting tasks and 100 spinning', function () {
  this.timeout(120_000);
  let session: Session;
  let stop: Stop;
  let loopId: number;
  const tasks = async (args: Record<string, unknown>): Promise<TasksBody> =>
    (await session.client.customRequest('loopscope/tasks', { loopId, ...args })).body;

  before(async () => {
    session = new Session();
    await session.start();
    await session.launch({ program: THOUSANDS, args: [String(WAITERS)] });
    await session.outputMatching(/started 2000 waiters/, 60_000);
    // A task-name breakpoint on the last spinner: its id is far beyond the 256 listed as threads.
    await session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'spinner-099' }] });
    stop = await session.nextStop(60_000);
    loopId = stop.body.loopscope.loopId;
  });
  after(async () => session?.stop());

  it('lists the task a stop is about as a thread beyond the thread cap, with its source', async () => {
    const { body } = await session.client.threadsRequest();
    const listed = body.threads.find((t) => t.id === stop.body.threadId);
    assert.ok(listed, `thread ${stop.body.threadId} among the ${body.threads.length} listed`);
    assert.match(listed.name, /spinner-099/);
    assert.ok(body.threads.length <= 256 + 3, `no more than the cap and the loop: ${body.threads.length}`);
    const top = await session.topFrame(stop.body.threadId);
    assert.equal(top.source?.path, THOUSANDS);
    assert.equal(top.line, line('spinning'));
  });

  it('counts every task per state, in the runtime', async () => {
    const body = await tasks({});
    const counts = Object.fromEntries(body.groups!.map((g) => [g.key, g.count]));
    assert.equal(body.total, WAITERS + SPINNERS + 1, 'every task: the waiters, the spinners and main');
    assert.equal(body.matching, body.total);
    assert.equal(counts.waiting, WAITERS + 1, `counts: ${JSON.stringify(counts)}`);
    assert.equal((counts.ready ?? 0) + (counts.running ?? 0), SPINNERS);
    assert.equal(body.tasks, undefined, 'groups only, no tasks, until a group is opened');
  });

  it('filters over all tasks: a name, a place', async () => {
    const spinners = await tasks({ filter: 'SPINNER-0' });
    assert.equal(spinners.matching, SPINNERS);
    const page = await tasks({ filter: 'spinner-099', group: spinners.groups![0].key, count: 10 });
    assert.deepEqual(page.tasks!.map((t) => t.name), ['spinner-099']);
    const there = await tasks({ filter: `thousands.py:${line('waiting')}` });
    assert.equal(there.matching, WAITERS);
    const none = await tasks({ filter: 'no such task' });
    assert.equal(none.matching, 0);
    assert.deepEqual(none.groups, []);
  });

  it('pages a group in id order, to its end', async () => {
    const seen: string[] = [];
    for (let start = 0; ; start += 500) {
      const page = await tasks({ group: 'waiting', start, count: 500 });
      assert.equal(page.groupTotal, WAITERS + 1);
      seen.push(...page.tasks!.map((t) => t.name));
      if (page.tasks!.length < 500) break;
    }
    assert.equal(seen.length, WAITERS + 1);
    assert.equal(new Set(seen).size, seen.length, 'no task twice');
    const waiters = seen.filter((name) => name.startsWith('waiter-'));
    assert.deepEqual(waiters, [...waiters].sort(), 'in id order, which is creation order here');
  });

  it('groups identical tasks by coroutine, by await location and by creator', async () => {
    const byCoroutine = await tasks({ groupBy: 'coroutine' });
    assert.deepEqual(byCoroutine.groups!.map((g) => [g.label, g.count]), [['waiter', WAITERS], ['spinner', SPINNERS], ['main', 1]]);
    const byLocation = await tasks({ groupBy: 'location' });
    assert.deepEqual(byLocation.groups![0], {
      key: byLocation.groups![0].key, label: `waiter · thousands.py:${line('waiting')} · Event.wait()`, count: WAITERS,
    });
    const byCreator = await tasks({ groupBy: 'creator' });
    assert.equal(byCreator.groups![0].count, WAITERS);
    assert.match(byCreator.groups![0].label, /^created at thousands\.py:\d+$/);
  });

  it('answers tasks by id, whatever their group', async () => {
    const { tasks: named } = await tasks({ filter: 'waiter-1999', group: 'waiting' });
    const { tasks: found } = await tasks({ ids: [named![0].id, stop.body.threadId, 999_999] });
    assert.deepEqual(found!.map((t) => t.name).sort(), ['spinner-099', 'waiter-1999']);
  });

  it('says which iterations ran unrecorded after running freely, never a silent gap', async () => {
    await session.client.setFunctionBreakpointsRequest({ breakpoints: [] });
    for (let i = 0; i < 2; i++) {
      await session.client.customRequest('loopscope/stepIteration', { threadId: stop.body.threadId });
      stop = await session.nextStop();
    }
    const before = stop.body.loopscope.iteration as number;
    await session.client.continueRequest({ threadId: stop.body.threadId });
    await session.client.pauseRequest({ threadId: stop.body.threadId });
    stop = await session.nextStop();
    const now = stop.body.loopscope.iteration as number;
    const { body } = await session.client.customRequest('loopscope/taskSwitches', { loopId, limit: 5000 });
    const switches = body.switches as TaskSwitch[];
    const gaps = switches.filter((s) => s.gap);
    assert.ok(gaps.length >= 1, 'a gap row');
    const last = gaps[0].gap!;
    assert.equal(last.why, 'ranFreely');
    assert.ok(last.fromIteration <= before + 1 && last.toIteration >= now - 1,
      `gap ${last.fromIteration}-${last.toIteration} covers the free run from ${before} to ${now}`);
    const stepped = switches.filter((s) => !s.gap && s.iteration <= before && s.iteration > before - 2);
    assert.ok(stepped.length >= SPINNERS, `the stepped iterations were recorded: ${stepped.length} steps`);
  });
});
