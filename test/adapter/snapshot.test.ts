// The loopscope/snapshot request, tasks as threads, task scopes and cancelTask, on a program that
// holds every common kind of waiting task at one moment (test/fixtures/zoo.py).
import * as assert from 'node:assert/strict';
import type { LoopSnapshot, TaskRef, TaskSnapshot } from '../../extension/adapter/protocol';
import { fixture, markers, Session, Stop, supportedPythons } from './harness';

const ZOO = fixture('zoo.py');
const ids = (refs: readonly TaskRef[]) => refs.map((r) => r.id);
/** Line numbers of the "# @name" markers in the fixture. */
const line = markers(ZOO);

async function atCheckpoint(python: string): Promise<{ session: Session; stop: Stop; loop: LoopSnapshot }> {
  const session = new Session();
  await session.start();
  await session.launch({ program: ZOO, python }, () =>
    session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'checkpoint' }] }));
  // 'checkpoint' stops first where the coroutine starts, then before the step that resumes Task-1 inside it:
  // the zoo is looked at there, with Task-1 ready and every other task waiting.
  const started = await session.nextStop();
  assert.equal(started.body.loopscope.where, 'code', 'the first stop is at checkpoint\'s first line');
  await session.client.continueRequest({ threadId: started.body.threadId });
  const stop = await session.nextStop();
  assert.equal(stop.body.loopscope.where, 'handle', 'then before the task step that resumes in checkpoint');
  const { body } = await session.client.customRequest('loopscope/snapshot', {});
  return { session, stop, loop: body.loops[0] };
}

describe('snapshot', () => {
  for (const python of supportedPythons()) {
    const minor = Number(python.version.split('.')[1]);
    it(`shows every kind of waiting task as it is (Python ${python.version})`, async () => {
      const { session, loop } = await atCheckpoint(python.path);
      try {
        const byName = new Map<string, TaskSnapshot>(loop.tasks.map((t) => [t.name, t]));
        const task = (name: string) => {
          const found = byName.get(name);
          assert.ok(found, `task ${name} in snapshot: ${[...byName.keys()].join(', ')}`);
          return found;
        };
        const idOf = (name: string) => task(name).id;
        assert.equal(loop.state, 'paused');
        assert.equal(loop.clock, 'frozen');
        // Waiting states and exact resume lines.
        for (const [name, marker] of [['sleeper', 'sleeper'], ['gatherer', 'gather_parent'], ['getter', 'queue_getter'],
          ['event-waiter', 'event_waiter'], ['lock-waiter', 'lock_waiter'], ['semaphore-waiter', 'semaphore_waiter'],
          ['condition-waiter', 'condition_waiter'], ['wait-for-user', 'wait_for_user'], ['executor-user', 'executor_user'],
          ['agen-user', 'agen'], ['dead-a', 'deadlocked']] as const) {
          assert.equal(task(name).state, 'waiting', name);
          assert.equal(task(name).location?.line, line(marker), `${name} resumes at @${marker}`);
        }
        assert.equal(task('Task-1').state, 'ready');
        assert.equal(task('fails').state, 'failed');
        assert.match(task('fails').exception!, /ValueError\('deliberate'\)/);
        assert.equal(task('cancelled').state, 'cancelled');
        // What each one awaits.
        assert.equal(task('sleeper').awaiting?.kind, 'sleep');
        assert.match(task('sleeper').awaiting!.description, /^sleep, due in (29|30)\.\d{3} s$/);
        assert.equal(task('getter').awaiting?.description, 'Queue.get()');
        assert.equal(task('event-waiter').awaiting?.description, 'Event.wait()');
        assert.equal(task('lock-waiter').awaiting?.description, 'Lock.acquire()');
        assert.equal(task('semaphore-waiter').awaiting?.description, 'Semaphore.acquire()');
        assert.equal(task('condition-waiter').awaiting?.description, 'Condition.wait()');
        assert.match(task('executor-user').awaiting!.description, /another thread/);
        assert.equal(task('dead-a').awaiting?.kind, 'task');
        assert.equal(task('dead-a').awaiting?.id, idOf('dead-b'));
        // Who awaits whom, through gather and wait_for.
        const children = loop.tasks.filter((t) => t.location?.line === line('child') && ids(t.awaitedBy).includes(idOf('gatherer')));
        assert.equal(children.length, 2, 'both gather children are awaited by the gatherer');
        const inner = loop.tasks.find((t) => ids(t.awaitedBy).includes(idOf('wait-for-user')));
        if (minor < 12) assert.ok(inner, 'the task wait_for wraps is awaited by wait-for-user');
        else assert.equal(task('wait-for-user').awaiting?.kind, 'sleep', 'from 3.12 wait_for awaits the coroutine itself');
        assert.deepEqual(ids(task('dead-a').awaitedBy), [idOf('dead-b')]);
        assert.deepEqual(loop.deadlocks.map((d) => [d.kind, ids(d.tasks).sort()]), [['awaitCycle', [idOf('dead-a'), idOf('dead-b')].sort()]]);
        if (minor >= 11) {
          assert.ok(ids(task('tg-child').awaitedBy).includes(idOf('group-parent')), 'TaskGroup child awaited by its parent');
          assert.equal(task('timeout-user').location?.line, line('timeout_user'));
        }
        // Where tasks were made, and the pending futures with their waiters.
        assert.equal(task('sleeper').createdAt?.line, line('created'));
        const queueFuture = loop.futures.find((f) => f.description === 'Queue.get()');
        assert.deepEqual(ids(queueFuture?.awaitedBy ?? []), [idOf('getter')]);
        // Timers sorted by due time; the wait_for timeout is the first (20 s).
        const dueIns = loop.timers.map((t) => t.dueIn!);
        assert.deepEqual(dueIns, [...dueIns].sort((a, b) => a - b));
        assert.ok(loop.timers[0].dueIn! > 19 && loop.timers[0].dueIn! <= 20, `first timer due in ${loop.timers[0].dueIn}`);
        assert.equal(loop.timers[0].taskId, idOf('wait-for-user'));
        assert.equal(loop.tasksTotal, loop.tasks.filter((t) => !['done', 'failed', 'cancelled'].includes(t.state)).length);
      } finally {
        await session.stop();
      }
    });
  }

  it('lists tasks as threads and shows a waiting task\'s await chain, locals and scopes', async () => {
    const { session, loop } = await atCheckpoint('python3');
    try {
      const { body: { threads } } = await session.client.threadsRequest();
      const getter = loop.tasks.find((t) => t.name === 'getter')!;
      assert.ok(threads.some((t) => t.id === getter.id && t.name === 'getter · queue_getter'), JSON.stringify(threads));
      assert.equal(threads[0].name, 'Event loop 1 (MainThread)');
      const { body: { stackFrames } } = await session.client.stackTraceRequest({ threadId: getter.id });
      assert.deepEqual([stackFrames[0].name, stackFrames[0].line], ['queue_getter', line('queue_getter')]);
      const { body: { scopes } } = await session.client.scopesRequest({ frameId: stackFrames[0].id });
      assert.deepEqual(scopes.map((s) => s.name), ['Locals', 'Task', 'Event loop', 'Globals']);
      const variables = async (ref: number) => (await session.client.variablesRequest({ variablesReference: ref })).body.variables;
      const locals = await variables(scopes[0].variablesReference);
      assert.match(locals.find((v) => v.name === 'queue')!.value, /Queue/);
      const taskRows = await variables(scopes[1].variablesReference);
      assert.equal(taskRows.find((v) => v.name === 'name')?.value, 'getter');
      assert.equal(taskRows.find((v) => v.name === 'created at')?.value.endsWith(`zoo.py:${line('created')}`), true);
      const loopRows = await variables(scopes[2].variablesReference);
      assert.match(loopRows.find((v) => v.name === 'timers')!.value, /^\d+ scheduled$/);
      const { body: evaluated } = await session.client.evaluateRequest({ expression: 'queue.qsize()', frameId: stackFrames[0].id, context: 'watch' });
      assert.equal(evaluated.result, '0');
    } finally {
      await session.stop();
    }
  });

  it('cancels a task at a safe point on its loop', async () => {
    const { session, stop, loop } = await atCheckpoint('python3');
    try {
      const sleeper = loop.tasks.find((t) => t.name === 'sleeper')!;
      await session.client.customRequest('loopscope/cancelTask', { taskId: sleeper.id });
      await session.outputMatching(/Task sleeper will be cancelled: CancelledError is raised where it awaits at zoo\.py:\d+ at its next step/);
      const { body: now } = await session.client.customRequest('loopscope/snapshot', {});
      const cancelling = (now.loops[0] as LoopSnapshot).tasks.find((t) => t.id === sleeper.id)!;
      assert.equal(cancelling.cancelling, true, 'shown as cancelling at once, while the loop is held');
      // The task unwinds when its loop runs it.
      const states: string[] = [];
      for (let step = 0; step < 3; step++) {
        await session.client.customRequest('loopscope/stepIteration', step === 0 ? { threadId: stop.body.threadId } : {});
        await session.nextStop();
        const { body } = await session.client.customRequest('loopscope/snapshot', {});
        states.push((body.loops[0] as LoopSnapshot).tasks.find((t) => t.id === sleeper.id)?.state ?? 'gone');
      }
      assert.equal(states[2], 'cancelled', `states after each iteration: ${states.join(', ')}`);
      await assert.rejects(session.client.customRequest('loopscope/cancelTask', { taskId: sleeper.id }), /already was cancelled/);
    } finally {
      await session.stop();
    }
  });

  it('reports a running loop as running, without running user code', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py') });
      await session.outputMatching(/sleeping/);
      const { body } = await session.client.customRequest('loopscope/snapshot', {});
      assert.equal(body.loops[0].state, 'running');
      assert.deepEqual(body.loops[0].tasks, []);
    } finally {
      await session.stop();
    }
  });
});
