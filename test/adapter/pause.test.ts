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
});
