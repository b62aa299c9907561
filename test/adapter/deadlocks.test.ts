// Deadlocks of every kind through the bundled adapter (issue #16): said the moment a loop would
// wait for ever (a loopscope/deadlock event and a Debug Console line), a stop when the Deadlock
// filter is ticked, and in the snapshot: lock cycles, idle loops, lost wake-ups; lock-order
// inversions as soon as they are seen (test/fixtures/deadlocks.py).
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Deadlock, LoopSnapshot } from '../../extension/adapter/protocol';
import { fixture, markers, Session, Stop, supportedPythons } from './harness';

const PROGRAM = fixture('deadlocks.py');
const line = markers(PROGRAM);
const names = (deadlock: Deadlock) => deadlock.tasks.map((t) => t.name).sort();

async function started(scenario: string, python: string, filters: string[] = []): Promise<Session> {
  const session = new Session();
  await session.start();
  await session.launch({ program: PROGRAM, args: [scenario], python }, () =>
    session.client.setExceptionBreakpointsRequest({ filters }));
  return session;
}

async function snapshot(session: Session): Promise<LoopSnapshot> {
  const { body } = await session.client.customRequest('loopscope/snapshot', { maxTasks: 100 });
  return body.loops[0];
}

describe('deadlocks', function () {
  this.timeout(60_000);
  for (const python of supportedPythons()) {
    it(`stops at a two-lock deadlock with the Deadlock filter, naming the cycle (Python ${python.version})`, async () => {
      const session = await started('locks', python.path, ['deadlock']);
      try {
        const stop: Stop = await session.nextStop();
        assert.equal(stop.body.reason, 'deadlock');
        assert.match(stop.body.text!, /^Deadlock: Event loop \d+ \(MainThread\) would wait for ever: 3 tasks wait/);
        const event = (await session.next('loopscope/deadlock')) as DebugProtocol.Event;
        assert.equal(event.body.deadlock.kind, 'idleLoop');
        assert.equal(event.body.stops, true, 'the event says the Deadlock filter stops here');
        // In the Debug Console, not as a second notification beside the extension's own.
        assert.match(session.text('console'), /would wait for ever.*Tasks: .*left.*right/);
        assert.equal(session.text('important'), '');
        const loop = await snapshot(session);
        const cycle = loop.deadlocks.find((d) => d.kind === 'lockCycle');
        assert.ok(cycle, `a lock cycle among ${JSON.stringify(loop.deadlocks)}`);
        assert.deepEqual(names(cycle), ['left', 'right']);
        assert.match(cycle.description, new RegExp(`left waits for Lock made at deadlocks.py:${line('locks-made')} held by right`));
        const left = loop.tasks.find((t) => t.name === 'left')!;
        assert.equal(left.blockedOn?.kind, 'lock');
        assert.deepEqual(left.blockedOn?.owners?.map((t) => t.name), ['right']);
        assert.match(left.blockedOn!.description, /^Lock lock_[ab], held by right$/);
        // Below its await chain, the Call Stack says who created the task, at that line.
        const { body: frames } = await session.client.stackTraceRequest({ threadId: left.id });
        const created = frames.stackFrames.find((f) => f.name.startsWith('created by'));
        assert.equal(created?.name, 'created by Task-1');
        assert.equal(created?.presentationHint, 'label');
        assert.equal(created?.line, line('left-made'));
      } finally {
        await session.stop();
      }
    });
  }

  it('says at once when two tasks wait for each other through locks while the loop keeps busy', async () => {
    const session = await started('busy', 'python3');
    try {
      const event = (await session.next('loopscope/deadlock')) as DebugProtocol.Event;
      assert.equal(event.body.deadlock.kind, 'lockCycle');
      assert.deepEqual(names(event.body.deadlock), ['left', 'right']);
      assert.match(event.body.deadlock.description, /^(left|right) waits for Lock made at deadlocks\.py:\d+ held by (right|left); /);
    } finally {
      await session.stop();
    }
  });

  it('says when a loop would wait for ever on futures, without stopping, and shows it after Pause', async () => {
    const session = await started('futures', 'python3');
    try {
      const event = (await session.next('loopscope/deadlock')) as DebugProtocol.Event;
      assert.equal(event.body.deadlock.kind, 'idleLoop');
      assert.deepEqual(names(event.body.deadlock), ['Task-1', 'first', 'second']);
      await session.client.pauseRequest({ threadId: 1 });
      await session.nextStop();
      const loop = await snapshot(session);
      assert.ok(loop.deadlocks.some((d) => d.kind === 'idleLoop'));
      const first = loop.futures.find((f) => f.awaitedBy.some((t) => t.name === 'first'))!;
      assert.equal(first.createdAt?.line, line('futures-made'));
      assert.ok(first.heldBy.some((h) => h.task?.name === 'second' && h.description === 'local theirs of hand_over()'),
        JSON.stringify(first.heldBy));
    } finally {
      await session.stop();
    }
  });

  it('reports a lock-order inversion when it happens, though the program does not deadlock', async () => {
    const session = await started('inversion', 'python3');
    try {
      const event = (await session.next('loopscope/deadlock')) as DebugProtocol.Event;
      assert.equal(event.body.deadlock.kind, 'lockOrderInversion');
      assert.match(event.body.deadlock.description, new RegExp(`^Lock order inversion: task backward took Lock .* \\(deadlocks.py:${line('second-taken')}\\)`));
      const exited = (await session.next('exited')) as DebugProtocol.ExitedEvent;
      assert.equal(exited.body.exitCode, 0);
      assert.match(session.text('stdout'), /no deadlock this time/);
    } finally {
      await session.stop();
    }
  });

  it('flags a future nothing else refers to as a lost wake-up, with where it was made', async () => {
    const session = await started('lost', 'python3');
    try {
      await session.outputMatching(/ticking/);
      await session.client.pauseRequest({ threadId: 1 });
      await session.nextStop();
      const loop = await snapshot(session);
      const lost = loop.deadlocks.find((d) => d.kind === 'lostWakeup');
      assert.ok(lost, JSON.stringify(loop.deadlocks));
      assert.deepEqual(names(lost), ['forgotten']);
      const future = loop.futures.find((f) => f.lostWakeup);
      assert.equal(future?.createdAt?.line, line('lost'));
      assert.ok(!loop.deadlocks.some((d) => d.kind === 'idleLoop'), 'main ticks on a timer: the loop is not idle');
    } finally {
      await session.stop();
    }
  });
});
