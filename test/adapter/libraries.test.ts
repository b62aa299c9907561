// Real library programs on Debian's own Python, where Debian installs packages in
// /usr/lib/python3/dist-packages (issue #15, 3): with justMyCode that code is library code, so
// stepping goes over it, the call stack leaves it out and the raised filter ignores what it
// raises and catches itself. And real clients awaited in the Debug Console (issue #18): aiohttp
// and websockets calls complete on the held loop. Skipped, with a note, where python3-aiohttp or
// python3-websockets is not installed (.ci/run installs both).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES, markers, Session, withSession } from './harness';

const DEBIAN_PYTHON = '/usr/bin/python3';
const AIOHTTP = path.join(FIXTURES, 'libraries', 'aiohttp_roundtrip.py');
const line = markers(AIOHTTP);

function needs(module: string): (this: Mocha.Context) => void {
  return function () {
    if (spawnSync(DEBIAN_PYTHON, ['-c', `import ${module}`]).status !== 0) {
      console.log(`      (skipped: ${DEBIAN_PYTHON} cannot import ${module}; apt-get install python3-${module})`);
      this.skip();
    }
  };
}

describe('library code where Debian installs it', () => {
  before(needs('aiohttp'));

  it('Step Into a library call lands in the next line of user code, not in dist-packages', () => withSession(async (s) => {
    await s.launch({ program: AIOHTTP, python: DEBIAN_PYTHON }, () =>
      s.client.setBreakpointsRequest({ source: { path: AIOHTTP }, breakpoints: [{ line: line('client_get') }] }));
    const hit = await s.nextStop();
    await s.client.setBreakpointsRequest({ source: { path: AIOHTTP }, breakpoints: [] });
    await s.client.stepInRequest({ threadId: hit.body.threadId });
    const stepped = await s.nextStop();
    const { body: { stackFrames } } = await s.client.stackTraceRequest({ threadId: stepped.body.threadId });
    const shown = stackFrames.filter((f) => f.source?.path).map((f) => f.source!.path!);
    assert.deepEqual(shown.filter((p) => /dist-packages|site-packages/.test(p)), [], 'library frames in the call stack');
    assert.equal(stackFrames[0].source?.path, AIOHTTP);
    assert.equal(stackFrames[0].line, line('handler_first'));
    await s.client.continueRequest({ threadId: stepped.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.match(s.text('stdout'), /hello loopscope/);
  }));

  // Issue #18: a function breakpoint on an aiohttp handler first stopped when its task resumed inside
  // it, after the lines before its first await had run.
  it('a function breakpoint on a handler stops at its first line, then where its task resumes in it', () => withSession(async (s) => {
    await s.launch({ program: AIOHTTP, python: DEBIAN_PYTHON }, () =>
      s.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'handle' }] }));
    const started = await s.nextStop(30_000);
    assert.equal(started.body.reason, 'function breakpoint');
    assert.match(started.body.text!, /^handle starts at aiohttp_roundtrip\.py:\d+ in task .* \(breakpoint 'handle'\)$/);
    const top = await s.topFrame(started.body.threadId);
    assert.deepEqual([top.name, top.line], ['handle', line('handler_first')]);
    const { body: { scopes } } = await s.client.scopesRequest({ frameId: top.id });
    const { body: { variables } } = await s.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
    assert.deepEqual(variables.map((v) => v.name), ['request'], 'no line of the handler has run yet');
    await s.client.continueRequest({ threadId: started.body.threadId });
    const resumed = await s.nextStop(30_000);
    assert.equal(resumed.body.loopscope.where, 'handle');
    assert.equal((await s.topFrame(resumed.body.threadId)).line, line('handler_resumed') - 1);
    await s.client.continueRequest({ threadId: resumed.body.threadId });
    assert.equal((await s.next('exited', 30_000)).body.exitCode, 0);
    assert.match(s.text('stdout'), /hello loopscope/);
  }));

  it('the raised filter ignores what the library raises and catches itself', () => withSession(async (s) => {
    await s.launch({ program: AIOHTTP, python: DEBIAN_PYTHON }, () => s.client.setExceptionBreakpointsRequest({ filters: ['raised'] }));
    const ended = await Promise.race([s.next('exited', 30_000).then(() => 'exited'), s.nextStop(30_000).then((stop) => `stopped: ${stop.body.text}`)]);
    assert.equal(ended, 'exited');
    assert.match(s.text('stdout'), /hello loopscope/);
  }));
});

const CLIENTS = path.join(FIXTURES, 'libraries', 'console_clients.py');
const clientLine = markers(CLIENTS);

describe('real clients awaited in the Debug Console', () => {
  before(needs('aiohttp'));
  before(needs('websockets'));

  async function heldInClients(s: Session, extra: Record<string, unknown> = {}): Promise<{ threadId: number; frameId: number }> {
    await s.launch({ program: CLIENTS, python: DEBIAN_PYTHON, ...extra }, () =>
      s.client.setBreakpointsRequest({ source: { path: CLIENTS }, breakpoints: [{ line: clientLine('held') }] }));
    const stop = await s.nextStop(30_000);
    const top = await s.topFrame(stop.body.threadId);
    assert.equal(top.line, clientLine('held'));
    return { threadId: stop.body.threadId, frameId: top.id };
  }

  const evaluate = async (s: Session, expression: string, frameId: number) =>
    (await s.client.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;

  it('an aiohttp request and a websockets round trip complete while the program stays held, and its output is as without them', () => withSession(async (s) => {
    const plain = spawnSync(DEBIAN_PYTHON, [CLIENTS], { encoding: 'utf8', timeout: 30_000 }).stdout;
    const { threadId, frameId } = await heldInClients(s);
    const mark = s.mark();
    assert.equal(await evaluate(s, 'await fetch(3)', frameId), "{'n': 3, 'name': 'item 3'}");
    assert.equal(await evaluate(s, '[(await fetch(n))["name"] for n in range(2)]', frameId), "['item 0', 'item 1']");
    assert.equal(await evaluate(s, 'await echo("from the console")', frameId), "'from the console'");
    assert.equal(s.since(mark), '', 'the program printed nothing meanwhile');
    await s.client.continueRequest({ threadId });
    assert.equal((await s.next('exited', 30_000)).body.exitCode, 0);
    assert.equal(s.text('stdout'), plain);
  }));

  it('the program\'s own aiohttp server answers the console when "consoleAwait" is "runLoop"', () => withSession(async (s) => {
    const { threadId, frameId } = await heldInClients(s, { consoleAwait: 'runLoop' });
    assert.equal(await evaluate(s, 'await ask_own("console")', frameId), "'hello console'");
    await s.client.continueRequest({ threadId });
    assert.equal((await s.next('exited', 30_000)).body.exitCode, 0);
    assert.match(s.text('stdout'), /own hello program\ndone\n$/);
  }));
});
