// Stepping through loop iterations and handles with the real adapter and real Pythons.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fixture, Session, supportedPythons } from './harness';

/** What each `loop.stop(); loop.run_forever()` of counters.py prints, iteration by iteration. */
function referenceIterations(python: string): string[] {
  const out = execFileSync(python, [fixture('counters.py'), '--reference']).toString();
  return out.split('<iteration>\n').slice(0, -1);
}

describe('stepping', () => {
  const pythons = supportedPythons();
  console.log(`    Pythons for stepping tests: ${pythons.map((p) => p.version).join(', ')}`);

  for (const python of pythons) {
    it(`next runs exactly one loop iteration (Python ${python.version})`, async () => {
      const reference = referenceIterations(python.path);
      assert.ok(reference.length >= 5, `reference run printed ${reference.length} iterations`);
      const session = new Session();
      await session.start();
      try {
        await session.launch({ program: fixture('counters.py'), stopOnEntry: true, python: python.path });
        const entry = await session.nextStop();
        assert.equal(entry.body.reason, 'entry');
        assert.match(entry.body.text!, /before the first iteration/);
        const threadId = entry.body.threadId;
        for (let i = 0; i < reference.length; i++) {
          const mark = session.mark();
          await session.client.nextRequest({ threadId });
          const stop = await session.nextStop();
          assert.equal(stop.body.reason, 'step');
          assert.equal((stop.body as any).loopscope.iteration, i + 1);
          assert.equal(session.since(mark), reference[i], `output of iteration ${i + 1}`);
        }
        await session.client.continueRequest({ threadId });
        const exited = await session.next('exited');
        assert.equal(exited.body.exitCode, 0);
        await session.next('terminated');
        assert.match(session.text('stdout'), /done\n$/);
      } finally {
        await session.stop();
      }
    });
  }

  it('stepIn stops before the next handle, naming the task and where it resumes', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('counters.py'), stopOnEntry: true });
      const { body: { threadId } } = await session.nextStop();
      await session.client.stepInRequest({ threadId });
      const first = await session.nextStop();
      assert.equal(first.body.reason, 'step');
      assert.match(first.body.text!, /^Task Task-\d+ starts at counters\.py:8$/);
      // Nothing ran yet: the first handle is held before it runs.
      assert.equal(session.text('stdout'), '');
      const top = await session.topFrame(threadId);
      assert.equal(top.name, 'count');
      assert.equal(top.line, 8);
      await session.client.stepInRequest({ threadId });
      const second = await session.nextStop();
      assert.equal(session.text('stdout'), 'a 1\n');
      assert.match(second.body.text!, /^Task Task-\d+ starts at counters\.py:8$/);
      const handle = (second.body as any).loopscope.lastHandle;
      assert.equal(handle.taskState, 'pending');
      assert.equal(handle.suspendedAt.line, 11);
      // A second step of the first task resumes at its await.
      await session.client.stepInRequest({ threadId });
      const third = await session.nextStop();
      assert.match(third.body.text!, /resumes at counters\.py:11$/);
      assert.equal((await session.topFrame(threadId)).line, 11);
    } finally {
      await session.stop();
    }
  });

  it('stepOut from before a handle finishes the iteration', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('counters.py'), stopOnEntry: true });
      const { body: { threadId } } = await session.nextStop();
      await session.client.stepInRequest({ threadId });
      await session.nextStop();
      await session.client.stepOutRequest({ threadId });
      const stop = await session.nextStop();
      assert.equal((stop.body as any).loopscope.where, 'iteration');
      assert.equal((stop.body as any).loopscope.iteration, 1);
      assert.equal(session.text('stdout'), 'a 1\nb 1\n');
    } finally {
      await session.stop();
    }
  });

  it('shows the loop thread and the stack between iterations', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('counters.py'), stopOnEntry: true });
      const { body: { threadId } } = await session.nextStop();
      const { body: { threads } } = await session.client.threadsRequest();
      assert.equal(threads[0].name, 'Event loop 1 (MainThread)');
      assert.deepEqual(threads.slice(1).map((t) => t.name.replace(/Task-\d+/, 'Task-N')), ['Task-N · count', 'Task-N · count']);
      const { body } = await session.client.stackTraceRequest({ threadId });
      const names = body.stackFrames.map((f) => `${f.name}:${f.line}`);
      // Between iterations the program is where the loop is (issue #13, 13): the top frame is the
      // loop's own run_forever, named for the position, and its only scope is the Event loop.
      const [top] = body.stackFrames;
      assert.match(top.name, /^Event loop 1 \(MainThread\) · before iteration 1$/);
      assert.match(top.source?.path ?? '', /asyncio[/\\]base_events\.py$/);
      const { body: { scopes } } = await session.client.scopesRequest({ frameId: top.id });
      assert.deepEqual(scopes.map((s) => s.name), ['Event loop']);
      const { body: { variables } } = await session.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
      assert.equal(variables.find((v) => v.name === 'iteration')?.value, 'before iteration 1');
      assert.ok(names.includes('<module>:29'), names.join(', '));
    } finally {
      await session.stop();
    }
  });
});
