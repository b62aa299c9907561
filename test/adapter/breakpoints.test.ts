// Task filters and function breakpoints on task and coroutine names, through the real adapter.
import * as assert from 'node:assert/strict';
import { fixture, withSession } from './harness';

describe('function breakpoints', () => {
  it('stop when a task with that name resumes', () => withSession(async (session) => {
    let verified: boolean | undefined;
    await session.launch({ program: fixture('named_tasks.py') }, async () => {
      const { body } = await session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'producer' }] });
      verified = body.breakpoints[0].verified;
    });
    assert.equal(verified, true);
    const stop = await session.nextStop();
    assert.equal(stop.body.reason, 'function breakpoint');
    assert.match(stop.body.text!, /^Task producer starts at named_tasks\.py:5 \(breakpoint 'producer'\)$/);
    assert.equal(stop.body.hitBreakpointIds?.length, 1);
    const top = await session.topFrame(stop.body.threadId);
    assert.deepEqual([top.name, top.line, top.source?.name], ['produce', 5, 'named_tasks.py']);
  }));

  it('match a coroutine name anywhere in the await chain, and honour hitCondition', () => withSession(async (session) => {
    await session.launch({ program: fixture('named_tasks.py') }, () =>
      session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'consume', hitCondition: '3' }] }));
    const stop = await session.nextStop();
    assert.match(stop.body.text!, /^Task consumer resumes at named_tasks\.py:15/);
    // Hits 1 and 2 were the start and the first wakeup; before hit 3 the consumer took item 0 only.
    assert.equal(session.text('stdout'), 'consumed 0\n');
    await session.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await session.next('exited')).body.exitCode, 0);
  }));

  it('honour a condition evaluated in the task\'s innermost frame', () => withSession(async (session) => {
    await session.launch({ program: fixture('named_tasks.py') }, () =>
      session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'consumer', condition: 'total >= 1' }] }));
    const stop = await session.nextStop();
    assert.equal(stop.body.reason, 'function breakpoint');
    assert.equal(session.text('stdout'), 'consumed 0\nconsumed 1\n');
    const { body: { scopes } } = await session.client.scopesRequest({ frameId: (await session.topFrame(stop.body.threadId)).id });
    const { body: { variables } } = await session.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
    assert.equal(variables.find((v) => v.name === 'total')?.value, '1');
  }));

  it('report a hit condition that is not a number as unverified', () => withSession(async (session) => {
    let result: { verified: boolean; message?: string } | undefined;
    await session.launch({ program: fixture('named_tasks.py') }, async () => {
      const { body } = await session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'consumer', hitCondition: 'often' }] });
      result = body.breakpoints[0];
    });
    assert.equal(result?.verified, false);
    assert.match(result!.message!, /hit count must be a number/);
    assert.equal((await session.next('exited')).body.exitCode, 0);
  }));
});

describe('task filters', () => {
  it('taskCreated stops in the code that creates the task', () => withSession(async (session) => {
    await session.launch({ program: fixture('named_tasks.py') }, () =>
      session.client.setExceptionBreakpointsRequest({ filters: ['taskCreated'] }));
    const first = await session.nextStop();
    assert.equal(first.body.reason, 'task created');
    assert.match(first.body.text!, /^Task Task-1 \(main\) created at named_tasks\.py:30$/);
    await session.client.continueRequest({ threadId: first.body.threadId });
    const second = await session.nextStop();
    assert.match(second.body.text!, /^Task consumer \(consume\) created at named_tasks\.py:24$/);
    const top = await session.topFrame(second.body.threadId);
    assert.deepEqual([top.name, top.line], ['main', 24]);
  }));

  it('taskDone stops when a task finishes, saying how', () => withSession(async (session) => {
    await session.launch({ program: fixture('named_tasks.py') }, () =>
      session.client.setExceptionBreakpointsRequest({ filters: ['taskDone'] }));
    const stop = await session.nextStop();
    assert.equal(stop.body.reason, 'task done');
    assert.equal(stop.body.text, 'Task producer finished: returned None');
    await session.client.continueRequest({ threadId: stop.body.threadId });
    const next = await session.nextStop();
    assert.equal(next.body.text, 'Task consumer finished: returned 6');
  }));

  it('taskSwitch stops before every task step', () => withSession(async (session) => {
    await session.launch({ program: fixture('counters.py') }, () =>
      session.client.setExceptionBreakpointsRequest({ filters: ['taskSwitch'] }));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const stop = await session.nextStop();
      assert.equal(stop.body.reason, 'task switch');
      seen.push(stop.body.text!);
      await session.client.continueRequest({ threadId: stop.body.threadId });
    }
    assert.deepEqual(seen.map((d) => d.replace(/Task-\d+/, 'T')), [
      'Task T starts at counters.py:8', 'Task T starts at counters.py:8',
      'Task T resumes at counters.py:11', 'Task T resumes at counters.py:11',
    ]);
  }));

  it('refuses a filter it does not know', () => withSession(async (session) => {
    await session.launch({ program: fixture('counters.py') }, async () => {
      await assert.rejects(session.client.setExceptionBreakpointsRequest({ filters: ['everything'] }), /Unknown exception filter everything/);
    });
  }));
});
