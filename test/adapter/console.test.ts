// The Debug Console and Variables through the bundled adapter, on every CPython: await in evaluate
// (repl and watch) on the held loop, the program's output and schedule afterwards as in a plain run,
// setVariable and setExpression on locals (a suspended task's too), items and attributes, and
// completions that run none of the program's code (test/fixtures/console_await.py).
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fixture, markers, Session, supportedPythons, withSession } from './harness';

const PROGRAM = fixture('console_await.py');
const line = markers(PROGRAM);

/** stdout of the program run by plain Python, without Loopscope. */
function plainOutput(python: string): string {
  return execFileSync(python, [PROGRAM], { encoding: 'utf8' });
}

/** Launch and stop at @held; the top frame's id and the stop. */
async function heldAt(s: Session, python: string, extra: Record<string, unknown> = {}) {
  await s.launch({ program: PROGRAM, python, ...extra }, () =>
    s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: line('held') }] }));
  const stop = await s.nextStop();
  assert.equal(stop.body.reason, 'breakpoint');
  const top = await s.topFrame(stop.body.threadId);
  assert.equal(top.line, line('held'));
  return { stop, frameId: top.id };
}

async function evaluate(s: Session, expression: string, frameId: number, context = 'repl'): Promise<string> {
  return (await s.client.evaluateRequest({ expression, frameId, context })).body.result;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected the request to fail');
}

async function locals(s: Session, frameId: number): Promise<DebugProtocol.Variable[]> {
  const { body: { scopes } } = await s.client.scopesRequest({ frameId });
  const ref = scopes.find((scope) => scope.name === 'Locals')!.variablesReference;
  return (await s.client.variablesRequest({ variablesReference: ref })).body.variables;
}

async function finish(s: Session, threadId: number): Promise<void> {
  await s.client.continueRequest({ threadId });
  assert.equal((await s.next('exited')).body.exitCode, 0);
}

describe('the Debug Console and Variables', () => {
  it('advertises setVariable, setExpression and completions', () => withSession(async (s) => {
    const { body } = await s.client.initializeRequest({ adapterID: 'loopscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.equal(body?.supportsSetVariable, true);
    assert.equal(body?.supportsSetExpression, true);
    assert.equal(body?.supportsCompletionsRequest, true);
    assert.deepEqual(body?.completionTriggerCharacters, ['.', '[']);
  }));

  for (const python of supportedPythons()) {
    it(`awaits in the console and in watches on the held loop; the program runs as without it (Python ${python.version})`, () => withSession(async (s) => {
      const expected = plainOutput(python.path);
      const { stop, frameId } = await heldAt(s, python.path);
      const mark = s.mark();
      assert.equal(await evaluate(s, 'await fetch(3)', frameId), '30');
      assert.equal(await evaluate(s, 'await asyncio.sleep(0.1)', frameId), 'None');
      assert.equal(await evaluate(s, '[n async for n in numbers()]', frameId), '[0, 1, 2]');
      assert.equal(await evaluate(s, 'asyncio.current_task().get_name()', frameId), "'Task-1'", 'without await: in the held task');
      assert.equal(await evaluate(s, '(await fetch(count), asyncio.current_task().get_name())', frameId), "(10, 'Loopscope console')");
      assert.equal(await evaluate(s, 'await fetch(4)', frameId, 'watch'), '40');
      assert.equal(await evaluate(s, 'count = await fetch(2)', frameId), '');
      const held = await failure(s.client.evaluateRequest({ expression: 'await ticks', frameId, context: 'repl' }));
      assert.match(held, /waits on task Task-2 \(ticker, ready to resume at console_await\.py:\d+\), which is held with the rest of the program: set "consoleAwait": "runLoop" in launch\.json/);
      const slow = await failure(s.client.evaluateRequest({ expression: 'await asyncio.sleep(30)', frameId, context: 'watch' }));
      assert.match(slow, /^the expression ran longer than 1 s and was cancelled; meanwhile the program was held/);
      assert.equal(s.since(mark), '', 'the program printed nothing meanwhile');
      await finish(s, stop.body.threadId);
      assert.equal(s.text('stdout'), expected.replace('held at 1\ncount 1', 'held at 20\ncount 20'));
    }));

    it(`sets locals (a suspended task's too), items, attributes and expressions; completes without running code (Python ${python.version})`, () => withSession(async (s) => {
      const { stop, frameId } = await heldAt(s, python.path);
      const frameLocals = await locals(s, frameId);
      const { body: { scopes } } = await s.client.scopesRequest({ frameId });
      const localsRef = scopes.find((scope) => scope.name === 'Locals')!.variablesReference;
      assert.deepEqual((await s.client.setVariableRequest({ variablesReference: localsRef, name: 'count', value: 'count + 6' })).body,
        { value: '7', type: 'int', variablesReference: 0 });
      const settings = frameLocals.find((v) => v.name === 'settings')!;
      const attributes = (await s.client.variablesRequest({ variablesReference: settings.variablesReference })).body.variables;
      await s.client.setVariableRequest({ variablesReference: settings.variablesReference, name: 'retries', value: 'await fetch(3)' });
      const hosts = attributes.find((v) => v.name === 'hosts')!;
      await s.client.setVariableRequest({ variablesReference: hosts.variablesReference, name: '[1]', value: '"z"' });
      const limits = attributes.find((v) => v.name === 'limits')!;
      const shownKeys = (await s.client.variablesRequest({ variablesReference: limits.variablesReference })).body.variables.map((v) => v.name);
      assert.deepEqual(shownKeys, ["'cpu'", "'mem'"]);
      await s.client.setVariableRequest({ variablesReference: limits.variablesReference, name: "'mem'", value: '64' });
      const refused = await failure(s.client.setVariableRequest({ variablesReference: localsRef, name: 'count', value: 'undefined_name' }));
      assert.match(refused, /NameError/);
      // The worker task, suspended in its own frame: its local changes.
      const { body: { threads } } = await s.client.threadsRequest();
      const workerThread = threads.find((t) => /worker/.test(t.name))!;
      const workerTop = await s.topFrame(workerThread.id);
      assert.equal(workerTop.line, line('worker-suspended'));
      const { body: { scopes: workerScopes } } = await s.client.scopesRequest({ frameId: workerTop.id });
      const workerLocals = workerScopes.find((scope) => scope.name === 'Locals')!.variablesReference;
      assert.equal((await s.client.setVariableRequest({ variablesReference: workerLocals, name: 'budget', value: 'budget * 100' })).body.value, '500');
      // setExpression, as the Watch view sends it.
      const set = await s.client.send('setExpression', { expression: 'settings.hosts[0]', value: "'first'", frameId }) as DebugProtocol.SetExpressionResponse;
      assert.equal(set.body.value, "'first'");
      assert.match(await failure(s.client.send('setExpression', { expression: 'count + 1', value: '2', frameId })), /cannot be assigned to/);
      // Completions: the cursor's line up to the cursor; each target replaces the fragment.
      const complete = async (text: string, column = text.length + 1) =>
        (await s.client.completionsRequest({ text, column, frameId })).body.targets;
      const names = await complete('print(sett');
      assert.deepEqual(names.map((t) => [t.label, t.length, t.type]), [['settings', 4, 'variable']]);
      assert.deepEqual((await complete('settings.li')).map((t) => t.label), ['limits']);
      assert.deepEqual((await complete('settings.limits[')).map((t) => t.label), ["'cpu'", "'mem'"]);
      assert.deepEqual((await complete('settings.limits[]', 17)).map((t) => t.label), ["'cpu'", "'mem'"], 'the text after the cursor is left out');
      assert.ok((await complete('asyncio.')).some((t) => t.label === 'sleep' && t.type === 'function'));
      await finish(s, stop.body.threadId);
      assert.match(s.text('stdout'), /^count 7 retries 30 hosts \['first', 'z'\] limits \{'cpu': 1, 'mem': 64\}$/m);
      assert.match(s.text('stdout'), /^worker budget 500$/m);
    }));
  }

  const pythons = supportedPythons();
  for (const python of [...new Set([pythons[0], pythons[pythons.length - 1]])]) {
    it(`an await typed in a frame of another loop's task runs on that loop, on its thread (Python ${python.version})`, () => withSession(async (s) => {
      const TWO_LOOPS = fixture('two_loops_console.py');
      const twoLine = markers(TWO_LOOPS);
      await s.launch({ program: TWO_LOOPS, python: python.path }, () =>
        s.client.setBreakpointsRequest({ source: { path: TWO_LOOPS }, breakpoints: [{ line: twoLine('main-held') }] }));
      const stop = await s.nextStop();
      const { body: { threads } } = await s.client.threadsRequest();
      const other = threads.find((t) => t.name.startsWith('other-worker'))!;
      assert.ok(other, JSON.stringify(threads));
      // The other loop holds at its next boundary once the main one stops (all-stop); until then its
      // stack says it is running.
      let top = await s.topFrame(other.id);
      for (const deadline = Date.now() + 10_000; top.name !== 'other_worker' && Date.now() < deadline;) top = await s.topFrame(other.id);
      assert.deepEqual([top.name, top.line], ['other_worker', twoLine('other-wait')]);
      assert.equal(await evaluate(s, '(await asyncio.sleep(0)) or threading.current_thread().name', top.id), "'other-loop-thread'");
      assert.equal(await evaluate(s, 'mine', top.id), "'other'");
      const mainTop = await s.topFrame(stop.body.threadId);
      assert.equal(await evaluate(s, '(await asyncio.sleep(0)) or threading.current_thread().name', mainTop.id), "'MainThread'");
      await finish(s, stop.body.threadId);
      assert.equal(s.text('stdout'), 'main held\ndone\n');
    }));
  }

  it('with "consoleAwait": "runLoop" the whole loop runs until the expression is done', () => withSession(async (s) => {
    const { stop, frameId } = await heldAt(s, supportedPythons()[0].path, { consoleAwait: 'runLoop' });
    const mark = s.mark();
    assert.equal(await evaluate(s, 'await ticks', frameId), 'None');
    assert.match(s.since(mark), /^tick 1\ntick 2\n/, 'the ticker ran');
    await finish(s, stop.body.threadId);
    assert.match(s.text('stdout'), /^tick 0\ntick 1\ntick 2\nworker budget 5\nheld at 1\n.*\ntimer\nnames \['Task-1'\]\ndone\n$/s);
  }));

  it('refuses an invalid consoleAwait in launch.json', () => withSession(async (s) => {
    await s.client.initializeRequest({ adapterID: 'loopscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const message = await failure(s.client.launchRequest({ program: PROGRAM, consoleAwait: 'everything' } as DebugProtocol.LaunchRequestArguments));
    assert.match(message, /"consoleAwait" in launch\.json must be "holdOthers" or "runLoop"/);
  }));
});
