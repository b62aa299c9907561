// Stepping where a frame ends (issue #15, 1 and 2): at a task's last line, Step Over and Step Out
// land in the coroutine that awaits the task (directly or through gather), and Step Out of a
// plain function whose caller returns its result on the same line lands in that caller; nothing
// runs the program to its end. Every Python on the machine, through the bundled adapter.
import * as assert from 'node:assert/strict';
import { fixture, markers, Session, supportedPythons, withSession } from './harness';

const PROGRAM = fixture('step_edges.py');
const line = markers(PROGRAM);

async function stopAt(s: Session, python: string, marker: string) {
  await s.launch({ program: PROGRAM, python }, () =>
    s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: line(marker) }] }));
  const hit = await s.nextStop();
  assert.equal(hit.body.reason, 'breakpoint');
  await s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [] });
  return hit;
}

async function step(s: Session, kind: 'next' | 'stepIn' | 'stepOut', threadId: number) {
  await s.client.send(kind, { threadId });
  const stop = await s.nextStop(10_000);
  assert.equal(stop.body.reason, 'step');
  const top = await s.topFrame(stop.body.threadId);
  return { stop, where: `${top.name}:${top.line}` };
}

describe('stepping where a frame ends', () => {
  for (const python of supportedPythons()) {
    for (const kind of ['next', 'stepOut'] as const) {
      it(`${kind} at a task's last line lands in the coroutine awaiting it (Python ${python.version})`, () => withSession(async (s) => {
        const hit = await stopAt(s, python.path, 'worker_return');
        const { where } = await step(s, kind, hit.body.threadId);
        assert.equal(where, `main:${line('main_after_task')}`);
        assert.doesNotMatch(s.text('console'), /ran outside/);
      }));
    }

    it(`stepOut at a gathered task's last line lands in the coroutine awaiting the gather (Python ${python.version})`, () => withSession(async (s) => {
      const hit = await stopAt(s, python.path, 'gathered_return');
      const { where } = await step(s, 'stepOut', hit.body.threadId);
      assert.equal(where, `main:${line('main_after_gather')}`);
    }));

    it(`stepOut of a function whose caller returns its result lands in that caller (Python ${python.version})`, () => withSession(async (s) => {
      const hit = await stopAt(s, python.path, 'compute_return');
      let { stop, where } = await step(s, 'stepIn', hit.body.threadId);
      assert.equal(where, `helper:${line('helper_first')}`);
      ({ stop, where } = await step(s, 'stepIn', stop.body.threadId));
      assert.equal(where, `helper:${line('helper_return')}`);
      ({ stop, where } = await step(s, 'stepOut', stop.body.threadId));
      assert.equal(where, `compute:${line('compute_return')}`);
      ({ stop, where } = await step(s, 'next', stop.body.threadId));
      assert.equal(where, `worker:${line('worker_compute') + 1}`);
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.doesNotMatch(s.text('console'), /ran outside/);
    }));
  }
});
