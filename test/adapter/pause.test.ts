// Pause must work whether the loop sleeps in select() or a callback hogs it.
import * as assert from 'node:assert/strict';
import { fixture, Session } from './harness';

describe('pause', () => {
  it('wakes a loop idle in a long sleep', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py') });
      await session.outputMatching(/sleeping|spinning/);
      await session.client.pauseRequest({ threadId: 1 });
      const stop = await session.nextStop(5_000);
      assert.equal(stop.body.reason, 'pause');
      assert.equal((stop.body as any).loopscope.where, 'iteration');
      await session.client.continueRequest({ threadId: stop.body.threadId });
      // Running again: a second pause stops it again.
      await session.client.pauseRequest({ threadId: 1 });
      assert.equal((await session.nextStop(5_000)).body.reason, 'pause');
    } finally {
      await session.stop();
    }
  });

  it('stops inside a busy coroutine within a second, showing its frame', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('busy.py') });
      await session.outputMatching(/sleeping|spinning/);
      const asked = Date.now();
      await session.client.pauseRequest({ threadId: 1 });
      const stop = await session.nextStop(5_000);
      const took = Date.now() - asked;
      assert.equal(stop.body.reason, 'pause');
      assert.equal((stop.body as any).loopscope.where, 'code');
      assert.ok(took < 1_000, `pause took ${took} ms`);
      const { body } = await session.client.stackTraceRequest({ threadId: stop.body.threadId });
      const top = body.stackFrames[0];
      assert.equal(top.name, 'spin');
      assert.ok([8, 9].includes(top.line), `stopped at line ${top.line}`);
      assert.ok(body.stackFrames.some((f) => f.name === '<module>' && f.line === 12), 'the module frame below it');
      assert.ok(!body.stackFrames.some((f) => /loopscope|asyncio/.test(f.source?.path ?? '')), 'no Loopscope or asyncio frames');
      const { body: { scopes } } = await session.client.scopesRequest({ frameId: top.id });
      const { body: { variables } } = await session.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
      const counter = Number(variables.find((v) => v.name === 'counter')?.value);
      assert.ok(counter > 0, `counter is ${counter}`);
      const { body: evaluated } = await session.client.evaluateRequest({ expression: 'counter * 2', frameId: top.id, context: 'repl' });
      assert.equal(Number(evaluated.result), counter * 2);
    } finally {
      await session.stop();
    }
  });

  // Issue #15, 7: stepping after a pause in an idle loop used to wait out the 3,600 s sleep; now
  // a step waits at most 1 s (STEP_WAIT_LIMIT), then the loop is woken and the step ends.
  it('steps an idle loop within a second, and Step Into says what it waits for and stays pausable', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py') });
      await session.outputMatching(/sleeping/);
      await session.client.pauseRequest({ threadId: 1 });
      let stop = await session.nextStop(5_000);
      for (const step of ['next', 'loopscope/stepIteration', 'next'] as const) {
        await session.client.send(step, { threadId: stop.body.threadId });
        stop = await session.nextStop(5_000);
        assert.equal(stop.body.reason, 'step', step);
        assert.equal((stop.body as any).loopscope.where, 'iteration', step);
      }
      const console = session.mark();
      await session.client.stepInRequest({ threadId: stop.body.threadId });
      await session.outputMatching(/waits for the next handle/);
      const said = session.output.slice(console).map((o) => o.text).join('');
      assert.match(said, /next timer is due in 3,?[56]\d\d\.\d+ s \(sleep in task Task-1 at sleeper\.py:7\)/);
      assert.match(said, /no file descriptor is watched/);
      await session.client.pauseRequest({ threadId: 1 });
      assert.equal((await session.nextStop(5_000)).body.reason, 'pause');
    } finally {
      await session.stop();
    }
  });
});
