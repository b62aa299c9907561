// Line breakpoints, logpoints and stepping inside coroutines (over await, into, out), and task
// exceptions, with the real adapter and every Python on the machine.
import * as assert from 'node:assert/strict';
import { fixture, markers, Session, supportedPythons, withSession } from './harness';

const STEPS = fixture('steps.py');
const line = markers(STEPS);

const session = withSession;

const breakAt = (s: Session, path: string, breakpoints: { line: number; condition?: string; hitCondition?: string; logMessage?: string }[]) =>
  s.client.setBreakpointsRequest({ source: { path }, breakpoints });

describe('line breakpoints and stepping in coroutines', () => {
  for (const python of supportedPythons().filter((p) => ['3.8', '3.11', '3.12', '3.13'].some((v) => p.version.startsWith(`${v}.`)))) {
    it(`the raised filter stops where user code raises, caught or not (Python ${python.version})`, () => session(async (s) => {
      const errorLine = markers(fixture('task_error.py'))('parse_raise');
      await s.launch({ program: fixture('task_error.py'), python: python.path }, () => s.client.setExceptionBreakpointsRequest({ filters: ['raised'] }));
      const stop = await s.nextStop();
      assert.equal(stop.body.reason, 'exception');
      assert.match(stop.body.text!, /^Raised ValueError: .* at task_error\.py:\d+ in task bad$/);
      const { body: { stackFrames } } = await s.client.stackTraceRequest({ threadId: stop.body.threadId });
      assert.deepEqual([stackFrames[0].name, stackFrames[0].line], ['parse', errorLine]);
      assert.equal((await s.client.exceptionInfoRequest({ threadId: stop.body.threadId })).body.exceptionId, 'ValueError');
      await s.client.setExceptionBreakpointsRequest({ filters: [] });
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 0);
    }));
  }

  for (const python of supportedPythons()) {
    it(`step over await lets other tasks run and stops on this task's next line (Python ${python.version})`, () => session(async (s) => {
      await s.launch({ program: STEPS, python: python.path }, () => breakAt(s, STEPS, [{ line: line('worker_await') }]));
      const hit = await s.nextStop();
      assert.equal(hit.body.reason, 'breakpoint');
      assert.match(hit.body.text!, /^Breakpoint at steps\.py:\d+ in task Task-\d+$/);
      const top = await s.topFrame(hit.body.threadId);
      assert.deepEqual([top.name, top.line], ['worker', line('worker_await')]);
      await breakAt(s, STEPS, []);
      const before = s.mark();
      await s.client.nextRequest({ threadId: hit.body.threadId });
      const stepped = await s.nextStop();
      assert.equal(stepped.body.reason, 'step');
      const after = await s.topFrame(stepped.body.threadId);
      assert.deepEqual([after.name, after.line], ['worker', line('worker_after')]);
      assert.equal(s.since(before), 'other 0\n', 'the other task ran while this one awaited');
      const { body: { scopes } } = await s.client.scopesRequest({ frameId: after.id });
      const { body: { variables } } = await s.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
      assert.equal(variables.find((v) => v.name === 'total')?.value, '0');
      // Into the awaited coroutine, and out again.
      await s.client.nextRequest({ threadId: stepped.body.threadId });
      const atHelperCall = await s.nextStop();
      assert.equal((await s.topFrame(atHelperCall.body.threadId)).line, line('worker_helper'));
      await s.client.stepInRequest({ threadId: atHelperCall.body.threadId });
      const inHelper = await s.nextStop();
      const helperTop = await s.topFrame(inHelper.body.threadId);
      assert.deepEqual([helperTop.name, helperTop.line], ['helper', line('helper_first')]);
      await s.client.stepOutRequest({ threadId: inHelper.body.threadId });
      const outAgain = await s.nextStop();
      const outTop = await s.topFrame(outAgain.body.threadId);
      assert.equal(outTop.name, 'worker');
      assert.ok([line('worker_helper'), line('worker_print')].includes(outTop.line), `stepped out to line ${outTop.line}`);
      await s.client.continueRequest({ threadId: outAgain.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.match(s.text('stdout'), /worker 10\n/);
    }));
  }

  it('verifies breakpoints, moving one on a line without code and refusing one past the end', () => session(async (s) => {
    let results: { verified: boolean; line?: number; message?: string }[] = [];
    await s.launch({ program: STEPS, stopOnEntry: true }, async () => {
      await breakAt(s, STEPS, [{ line: line('comment') }, { line: 999 }, { line: line('other_print'), hitCondition: 'sometimes' }]);
    });
    await s.nextStop();
    results = (await breakAt(s, STEPS, [{ line: line('comment') }, { line: 999 }, { line: line('other_print'), hitCondition: 'sometimes' }])).body.breakpoints;
    assert.deepEqual([results[0].verified, results[0].line], [true, line('run')]);
    assert.match(results[0].message!, /moved from line/);
    assert.equal(results[1].verified, false);
    assert.match(results[1].message!, /no code after it/);
    assert.equal(results[2].verified, false);
    assert.match(results[2].message!, /hit count must be a number/);
  }));

  it('honours a condition', () => session(async (s) => {
    await s.launch({ program: STEPS }, () => breakAt(s, STEPS, [{ line: line('other_print'), condition: 'i == 2' }]));
    const stop = await s.nextStop();
    const top = await s.topFrame(stop.body.threadId);
    const { body } = await s.client.evaluateRequest({ expression: 'i', frameId: top.id, context: 'hover' });
    assert.equal(body.result, '2');
    assert.equal(s.text('stdout').match(/other \d/g)?.length, 2, 'two prints before the third pass');
  }));

  it('honours a hit count', () => session(async (s) => {
    await s.launch({ program: STEPS }, () => breakAt(s, STEPS, [{ line: line('other_print'), hitCondition: '2' }]));
    const stop = await s.nextStop();
    const top = await s.topFrame(stop.body.threadId);
    assert.equal((await s.client.evaluateRequest({ expression: 'i', frameId: top.id })).body.result, '1');
  }));

  it('logpoints print with {expressions} filled in, without stopping', () => session(async (s) => {
    await s.launch({ program: STEPS }, () => breakAt(s, STEPS, [{ line: line('other_print'), logMessage: 'other says {i * 10}' }]));
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.match(s.text('console'), /other says 0\nother says 10\nother says 20\n/);
  }));

  it('a breakpoint in another task wins over a step, and says so', () => session(async (s) => {
    await s.launch({ program: STEPS }, () => breakAt(s, STEPS, [{ line: line('worker_await') }]));
    const hit = await s.nextStop();
    await breakAt(s, STEPS, [{ line: line('other_print') }]);
    await s.client.nextRequest({ threadId: hit.body.threadId });
    const other = await s.nextStop();
    assert.equal(other.body.reason, 'breakpoint');
    assert.match(other.body.text!, /steps\.py:\d+ in task Task-\d+ \(while stepping elsewhere\)$/);
    assert.equal((await s.topFrame(other.body.threadId)).name, 'other');
  }));

  it('taskException stops with the raising frame and its locals, and exceptionInfo tells what', () => session(async (s) => {
    const errorLine = markers(fixture('task_error.py'))('parse_raise');
    await s.launch({ program: fixture('task_error.py') }, () => s.client.setExceptionBreakpointsRequest({ filters: ['taskException'] }));
    const stop = await s.nextStop();
    assert.equal(stop.body.reason, 'exception');
    assert.match(stop.body.text!, /^Task bad raised ValueError: /);
    const top = await s.topFrame(stop.body.threadId);
    assert.deepEqual([top.name, top.line], ['parse', errorLine]);
    const { body: { scopes } } = await s.client.scopesRequest({ frameId: top.id });
    const locals = scopes.find((sc) => sc.name === 'Locals')!;
    const { body: { variables } } = await s.client.variablesRequest({ variablesReference: locals.variablesReference });
    assert.equal(variables.find((v) => v.name === 'text')?.value, "'twelve'");
    assert.equal(scopes[0].name, 'Exception', 'the exception comes first');
    const { body: info } = await s.client.exceptionInfoRequest({ threadId: stop.body.threadId });
    assert.equal(info.exceptionId, 'ValueError');
    assert.match(info.details!.stackTrace!, /int\(text\)/);
    await s.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.match(s.text('stdout'), /caught invalid literal/);
  }));

  // Issue #13, 8: one exception stops once, on the task that raised it, with the exception in Variables.
  it('taskException stops once for an exception that passes through two tasks, on the raising task', () => session(async (s) => {
    const program = fixture('task_error_chain.py');
    await s.launch({ program }, () => s.client.setExceptionBreakpointsRequest({ filters: ['taskException'] }));
    const stop = await s.nextStop();
    assert.match(stop.body.text!, /^Task fetcher raised KeyError: /);
    const { body: { threads } } = await s.client.threadsRequest();
    assert.match(threads.find((t) => t.id === stop.body.threadId)?.name ?? '', /^fetcher · fetch$/, 'stopped on the task, not its loop');
    const top = await s.topFrame(stop.body.threadId);
    assert.deepEqual([top.name, top.line], ['fetch', markers(program)('fetch_raise')]);
    const { body: { scopes } } = await s.client.scopesRequest({ frameId: top.id });
    assert.deepEqual(scopes.map((sc) => sc.name).slice(0, 3), ['Exception', 'Locals', 'Task']);
    const { body: { variables } } = await s.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
    assert.match(variables.find((v) => v.name === 'exception')?.value ?? '', /KeyError\('missing'\)/);
    await s.client.continueRequest({ threadId: stop.body.threadId });
    const next = await Promise.race([s.next('exited').then(() => 'exited'), s.nextStop().then((st) => `stopped again: ${st.body.text}`)]);
    assert.equal(next, 'exited');
    assert.match(s.text('stdout'), /main caught 'missing'/);
  }));
});
