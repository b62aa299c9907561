// Function breakpoints that stop where a function or coroutine starts, at its first line, each time
// it is called: from module level, in tasks, by name, qualified name or module.name; besides the
// stops before a task resumes inside a coroutine of that name. Through the real adapter.
import * as assert from 'node:assert/strict';
import { fixture, markers, Session, Stop, supportedPythons, withSession } from './harness';

const PROGRAM = fixture('everywhere/entries.py');
const line = markers(PROGRAM);

/** Every stop until the program exits, as [where, top frame's name and line, text]; continues each. */
async function everyStop(s: Session, look?: (stop: Stop) => Promise<void>): Promise<[string, string, number, string][]> {
  const seen: [string, string, number, string][] = [];
  for (let stop = await s.nextStopOrExit(); stop; stop = await s.nextStopOrExit()) {
    const top = await s.topFrame(stop.body.threadId);
    seen.push([stop.body.loopscope.where, top.name, top.line, stop.body.text!]);
    if (look) await look(stop);
    await s.client.continueRequest({ threadId: stop.body.threadId });
  }
  return seen;
}

describe('function breakpoints where a function starts', () => {
  for (const python of supportedPythons()) {
    it(`a coroutine's name stops at its first line each call, and where its task resumes in it (Python ${python.version})`, () => withSession(async (s) => {
      await s.launch({ program: PROGRAM, python: python.path }, () =>
        s.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'handler' }] }));
      const xs: string[] = [];
      const seen = await everyStop(s, async (stop) => {
        assert.equal(stop.body.reason, 'function breakpoint');
        assert.equal(stop.body.hitBreakpointIds?.length, 1);
        if (stop.body.loopscope.where === 'code') {
          assert.equal(stop.body.description, 'breakpoint on handler');
          const top = await s.topFrame(stop.body.threadId);
          xs.push((await s.client.evaluateRequest({ expression: 'x', frameId: top.id })).body.result);
        }
      });
      assert.deepEqual(seen.map(([where, name, at]) => [where, name, at]), [
        ['code', 'handler', line('handler_first')], ['handle', 'handler', line('handler_await')],
        ['code', 'handler', line('handler_first')], ['handle', 'handler', line('handler_await')],
      ]);
      assert.match(seen[0][3], /^handler starts at entries\.py:\d+ in task Task-1 \(breakpoint 'handler'\)$/);
      assert.match(seen[1][3], /^Task Task-1 resumes at entries\.py:\d+ \(breakpoint 'handler'\)$/);
      assert.deepEqual(xs, ['1', '2']);
      assert.match(s.text('stdout'), /\[2, 4, 4, 5\]/);
    }));

    it(`qualified and module names, at module level and in a task (Python ${python.version})`, () => withSession(async (s) => {
      const qualifiedCodeNames = Number(python.version.split('.')[1]) >= 11; // a running frame's name, before 3.11: co_name
      await s.launch({ program: PROGRAM, python: python.path }, () =>
        s.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'Service.run' }, { name: 'entries.plain' }] }));
      const seen = await everyStop(s);
      assert.deepEqual(seen.map(([where, name, at]) => [where, name, at]), [
        ['code', 'plain', line('plain_first')], ['code', 'Service.run', line('run_first')],
        ['handle', 'Service.run', line('run_first') + 1], ['code', 'plain', line('plain_first')],
      ].map(([where, name, at]) => [where, where === 'handle' || qualifiedCodeNames ? name : String(name).split('.').pop(), at]));
      assert.match(seen[0][3], /^plain starts at entries\.py:\d+ on thread MainThread \(breakpoint 'entries\.plain'\)$/);
      assert.match(seen[3][3], / in task Task-1 \(breakpoint 'entries\.plain'\)$/);
    }));
  }

  it('a condition sees the arguments; a hit count counts both kinds of stop', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () => s.client.setFunctionBreakpointsRequest({
      breakpoints: [{ name: 'handler', condition: 'x == 2' }, { name: 'Service.run', hitCondition: '2' }],
    }));
    const seen = await everyStop(s);
    assert.deepEqual(seen.map(([where, , at]) => [where, at]), [
      ['code', line('handler_first')], ['handle', line('handler_await')], ['handle', line('run_first') + 1],
    ]);
  }));
});
