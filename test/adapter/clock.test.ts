// The loop clock: frozen leaves out paused time, wall does not, virtual skips idle sleeps.
import * as assert from 'node:assert/strict';
import { fixture, Session } from './harness';

async function pauseMidTimeout(clock: string): Promise<string> {
  const session = new Session();
  await session.start();
  try {
    await session.launch({ program: fixture('clock_timeout.py'), clock }, () =>
      session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'work' }] }));
    const stop = await session.nextStop();
    // The user looks around for 2 s: longer than the whole 1 s timeout.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await session.client.setFunctionBreakpointsRequest({ breakpoints: [] });
    await session.client.continueRequest({ threadId: stop.body.threadId });
    await session.next('exited');
    return session.text('stdout');
  } finally {
    await session.stop();
  }
}

describe('loop clock', () => {
  it('frozen (the default): a 1 s wait_for survives a 2 s pause', async () => {
    assert.equal(await pauseMidTimeout('frozen'), 'survived\n');
  });

  it('wall: the same pause makes the same wait_for time out', async () => {
    assert.equal(await pauseMidTimeout('wall'), 'timed out\n');
  });

  it('virtual: an hour of sleeps ends in seconds, with an hour of loop time', async () => {
    const session = new Session();
    await session.start();
    try {
      const started = Date.now();
      await session.launch({ program: fixture('long_sleeps.py'), clock: 'virtual' });
      assert.equal((await session.next('exited')).body.exitCode, 0);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      const [, loopSeconds] = /loop seconds (\d+)/.exec(session.text('stdout'))!;
      assert.ok(Number(loopSeconds) >= 3600, `loop time advanced ${loopSeconds} s`);
    } finally {
      await session.stop();
    }
  });

  it('advanceClock moves a frozen clock forward while paused; the snapshot shows the clock', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py'), clock: 'frozen' });
      await session.outputMatching(/sleeping/);
      await session.client.pauseRequest({ threadId: 1 });
      await session.nextStop();
      const before = (await session.client.customRequest('loopscope/snapshot', {})).body.loops[0];
      assert.equal(before.clock, 'frozen');
      const dueBefore = before.timers.find((t: { dueIn: number }) => t.dueIn > 3000).dueIn;
      const { body } = await session.client.customRequest('loopscope/advanceClock', { seconds: 3000 });
      assert.ok(Math.abs(body.time - before.time - 3000) < 0.5, `time moved from ${before.time} to ${body.time}`);
      const after = (await session.client.customRequest('loopscope/snapshot', {})).body.loops[0];
      const dueAfter = after.timers.find((t: { dueIn: number }) => t.dueIn > 500).dueIn;
      assert.ok(Math.abs(dueBefore - dueAfter - 3000) < 0.5, `due in ${dueBefore} then ${dueAfter}`);
      await assert.rejects(session.client.customRequest('loopscope/advanceClock', { seconds: -1 }), /only moves forward/);
    } finally {
      await session.stop();
    }
  });

  it('refuses to move the wall clock, saying what to set', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py'), clock: 'wall', stopOnEntry: true });
      await session.nextStop();
      await assert.rejects(session.client.customRequest('loopscope/advanceClock', { seconds: 1 }), /set "clock" to "frozen" or "virtual"/);
    } finally {
      await session.stop();
    }
  });
});
