// Hostile and odd values in Variables, evaluate and the snapshot (test/fixtures/hostile_values.py):
// reprs that raise, never return or are megabytes long, self-referencing containers, a lying
// __getattr__, 100,000-item collections paged, non-UTF-8 output. The session shows an error text
// where it must and carries on, and the program sees no difference.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { LoopSnapshot } from '../../extension/adapter/protocol';
import { fixture, markers, supportedPythons, withSession } from './harness';

const PROGRAM = fixture('hostile_values.py');
const line = markers(PROGRAM);

describe('hostile values', () => {
  for (const python of supportedPythons()) {
    it(`are shown safely, paged, and leave the program as it was (Python ${python.version})`, () => withSession(async (s) => {
      await s.launch({ program: PROGRAM, python: python.path }, () =>
        s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: line('created') }, { line: line('values') }] }));
      // The snapshot the views poll at every stop shows a finished task's result without repr'ing it.
      const produced = async () => {
        const { body: { loops: [loop] } } = await s.client.customRequest('loopscope/snapshot', {}) as { body: { loops: LoopSnapshot[] } };
        return loop.tasks.find((t) => t.coroutine === 'produce');
      };
      const created = await s.nextStop();
      assert.equal((await produced())?.state, 'ready');
      await s.client.continueRequest({ threadId: created.body.threadId });
      const stop = await s.nextStop();
      assert.equal(stop.body.reason, 'breakpoint');
      assert.equal((await produced())?.state, 'done');
      assert.equal((await produced())?.result, '<__main__.CountedRepr object>');

      const top = await s.topFrame(stop.body.threadId);
      const { body: { scopes } } = await s.client.scopesRequest({ frameId: top.id });
      const children = async (variablesReference: number, more: Partial<DebugProtocol.VariablesArguments> = {}) =>
        (await s.client.variablesRequest({ variablesReference, ...more })).body.variables;
      const locals = new Map((await children(scopes[0].variablesReference)).map((v) => [v.name, v]));
      const local = (name: string) => {
        const found = locals.get(name);
        assert.ok(found, `local ${name} among ${[...locals.keys()].join(', ')}`);
        return found;
      };
      assert.equal(local('raising').value, '<repr failed: RuntimeError: no repr for you>');
      assert.match(local('endless').value, /^<repr took longer than 1\.0 s>$/);
      assert.ok(local('huge').value.length < 1100, `huge repr cut: ${local('huge').value.length} characters`);
      assert.match(local('huge').value, /^x+… \(5000000 characters\)$/);
      assert.equal(local('looped').value, '[1, 2, [...]]');
      assert.equal(local('mapping').value, "{'self': {...}}");

      // A lying __getattr__ does not invent attributes: the real ones are listed.
      const liar = await children(local('liar').variablesReference);
      assert.deepEqual(liar.map((v) => [v.name, v.value]), [['real', "'truth'"]]);

      // 100,000 items are paged by index; only named children are asked for separately (none).
      const bigList = local('big_list');
      assert.equal(bigList.indexedVariables, 100_000);
      const tail = await children(bigList.variablesReference, { filter: 'indexed', start: 99_997, count: 3 });
      assert.deepEqual(tail.map((v) => [v.name, v.value]), [['[99997]', '99997'], ['[99998]', '99998'], ['[99999]', '99999']]);
      assert.deepEqual(await children(bigList.variablesReference, { filter: 'named' }), []);
      const bigDict = local('big_dict');
      assert.equal(bigDict.indexedVariables, 100_000);
      const middle = await children(bigDict.variablesReference, { filter: 'indexed', start: 50_000, count: 2 });
      assert.deepEqual(middle.map((v) => [v.name, v.value]), [["'k50000'", '50000'], ["'k50001'", '50001']]);

      // evaluate: the same guards, and the user's own expression may use the lie.
      const evaluate = async (expression: string) =>
        (await s.client.evaluateRequest({ expression, frameId: top.id, context: 'repl' })).body.result;
      assert.equal(await evaluate('liar.anything'), "'lie about anything'");
      assert.match(await evaluate('endless'), /^<repr took longer than 1\.0 s>$/);
      assert.equal(await evaluate('len(big_dict)'), '100000');

      // Non-UTF-8 bytes arrive as replacement characters; the program carries on untouched.
      assert.match(s.text('stdout'), /bytes: \uFFFD+ \uFFFD done\n/);
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.match(s.text('stdout'), /held 8 values\nresult reprs: 0\n/);
    }));
  }

  // Issue #15, 6: a __repr__ stuck in C (sleep, a lock, a socket) runs no bytecode, so the time
  // limit's asynchronous exception alone never lands; Variables must answer anyway.
  const BLOCKING = fixture('blocking_reprs.py');
  for (const python of supportedPythons().filter((p) => /^3\.(8|11|12|14)\./.test(p.version))) {
    it(`answer within the time limit when a __repr__ blocks in C, on the main thread and another (Python ${python.version})`, () => withSession(async (s) => {
      await s.launch({ program: BLOCKING, python: python.path }, () =>
        s.client.setBreakpointsRequest({ source: { path: BLOCKING }, breakpoints: [{ line: markers(BLOCKING)('hold') }] }));
      for (const where of ['the main thread', 'a thread']) {
        const stop = await s.nextStop();
        const top = await s.topFrame(stop.body.threadId);
        const { body: { scopes } } = await s.client.scopesRequest({ frameId: top.id });
        const answer = s.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
        const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no Variables answer within 15 s (${where})`)), 15_000));
        const { body: { variables } } = await Promise.race([answer, deadline]);
        const value = (name: string) => variables.find((v) => v.name === name)?.value;
        for (const name of ['sleeping', 'locked', 'reading']) assert.match(value(name) ?? '', /took longer than/, `${name} (${where})`);
        assert.equal(value('plain'), "'still here'");
        // The session stays usable: evaluate on the same stop, then go on.
        assert.equal((await s.client.evaluateRequest({ expression: 'plain.upper()', frameId: top.id, context: 'repl' })).body.result, "'STILL HERE'");
        await s.client.continueRequest({ threadId: stop.body.threadId });
      }
      assert.equal((await s.next('exited', 30_000)).body.exitCode, 0);
      assert.match(s.text('stdout'), /done\n/);
    }));
  }
});
