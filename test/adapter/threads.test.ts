// Line breakpoints outside event loops (module level, threads, executor workers) and in a loop on
// another thread; all-stop with threads that run no loop; stepping on such a thread. Through the
// real adapter, on every Python on the machine.
import * as assert from 'node:assert/strict';
import { fixture, markers, Session, Stop, supportedPythons, until, withSession } from './harness';

const PROGRAM = fixture('everywhere/threads_and_loops.py');
const line = markers(PROGRAM);
const SPINNER = fixture('everywhere/spinner.py');

/** The name of the DAP thread a stop is on, as the threads request lists it. */
async function threadName(s: Session, stop: Stop): Promise<string> {
  const { body: { threads } } = await s.client.threadsRequest();
  return threads.find((t) => t.id === stop.body.threadId)?.name ?? `(no thread ${stop.body.threadId} in ${JSON.stringify(threads)})`;
}

describe('line breakpoints outside event loops', () => {
  for (const python of supportedPythons()) {
    const minor = Number(python.version.split('.')[1]);
    it(`stop at module level, in threads, in executor workers and on a loop of another thread (Python ${python.version})`, () => withSession(async (s) => {
      const marks = ['before_run', 'thread_line', 'executor_line', 'to_thread_line', 'other_loop_line', 'after_run'];
      await s.launch({ program: PROGRAM, python: python.path }, () =>
        s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: marks.map((m) => ({ line: line(m) })) }));
      const seen: [number, string, string][] = [];
      for (;;) {
        const next = await s.nextStopOrExit();
        if (!next) break;
        assert.equal(next.body.reason, 'breakpoint');
        const top = await s.topFrame(next.body.threadId);
        seen.push([top.line, await threadName(s, next), next.body.text!]);
        await s.client.continueRequest({ threadId: next.body.threadId });
      }
      const expected = marks.filter((m) => m !== 'to_thread_line' || minor >= 9).map(line);
      assert.deepEqual(seen.map(([l]) => l), expected, JSON.stringify(seen));
      const [beforeRun, inThread, inExecutor] = seen;
      assert.equal(beforeRun[1], 'Thread MainThread');
      assert.match(beforeRun[2], /^Breakpoint at threads_and_loops\.py:\d+ on thread MainThread$/);
      assert.equal(inThread[1], 'Thread worker');
      assert.match(inExecutor[1], /^Thread /);
      const onOtherLoop = seen[seen.length - 2];
      assert.match(onOtherLoop[1], /· on_other_loop$/, 'a task of the other thread\'s loop');
      assert.match(onOtherLoop[2], / in task Task-\d+$/);
      assert.equal(seen[seen.length - 1][1], 'Thread MainThread');
      assert.match(s.text('stdout'), /\['thread', 42, (2, )?'other loop'\]/);
    }));

    it(`all-stop holds a thread that runs no loop, lists it, and steps it (Python ${python.version})`, () => withSession(async (s) => {
      const spin = markers(SPINNER);
      await s.launch({ program: SPINNER, python: python.path }, () =>
        s.client.setBreakpointsRequest({ source: { path: SPINNER }, breakpoints: [{ line: spin('main_stop') }] }));
      const stop = await s.nextStop();
      const { body: { threads } } = await s.client.threadsRequest();
      assert.deepEqual(threads.map((t) => t.name), ['Thread MainThread', 'Thread spinner'], 'Loopscope\'s own threads are not listed');
      const spinner = threads[1].id;
      // The spinner holds at its next line of user code (until then its stack says it is not held).
      let frames: { name: string; presentationHint?: string }[] = [];
      await until(async () => {
        frames = (await s.client.stackTraceRequest({ threadId: spinner })).body.stackFrames;
        return frames.length > 0 && frames.every((f) => f.presentationHint !== 'label');
      }, 'the spinner holds');
      assert.equal(frames[0].name, 'spin');
      const top = (await s.topFrame(stop.body.threadId));
      const counter = async () => (await s.client.evaluateRequest({ expression: 'counter', frameId: top.id })).body.result;
      const first = await counter();
      await s.client.threadsRequest();
      assert.equal(await counter(), first, 'the spinner ran on while the program was held');
      // Step the spinner: it stops on its own next line; the main thread runs on meanwhile.
      await s.client.nextRequest({ threadId: spinner });
      const stepped = await s.nextStop();
      assert.equal(stepped.body.threadId, spinner);
      assert.equal(stepped.body.reason, 'step');
      assert.equal((await s.topFrame(spinner)).name, 'spin');
      await s.client.continueRequest({ threadId: spinner });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.match(s.text('stdout'), /spun True/);
    }));
  }

  for (const python of supportedPythons()) {
    it(`a breakpoint set while module-level code runs stops it there (Python ${python.version})`, () => withSession(async (s) => {
      const program = fixture('everywhere/module_loop.py');
      await s.launch({ program, python: python.path });
      await s.outputMatching(/ready\n/);
      await s.client.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: markers(program)('late_line') }] });
      const stop = await s.nextStop();
      const top = await s.topFrame(stop.body.threadId);
      assert.deepEqual([top.name, top.line], ['<module>', markers(program)('late_line')]);
      await s.client.setBreakpointsRequest({ source: { path: program }, breakpoints: [] });
      await s.client.evaluateRequest({ expression: 'done = True', frameId: top.id, context: 'repl' });
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.match(s.text('stdout'), /rounds True/);
    }));
  }

  it('steps over, into and out of code on an executor worker', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () =>
      s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: line('executor_line') }] }));
    const hit = await s.nextStop();
    await s.client.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [] });
    const steps: [string, number][] = [];
    const step = async (kind: 'next' | 'stepIn' | 'stepOut') => {
      const threadId = hit.body.threadId;
      if (kind === 'next') await s.client.nextRequest({ threadId });
      else if (kind === 'stepIn') await s.client.stepInRequest({ threadId });
      else await s.client.stepOutRequest({ threadId });
      const stop = await s.nextStop();
      assert.equal(stop.body.threadId, threadId, 'the step ends on the thread it began on');
      const top = await s.topFrame(threadId);
      steps.push([top.name, top.line]);
    };
    await step('next');
    await step('stepIn');
    await step('stepOut');
    // Out of helper, the rest of the calling line runs: the step ends at the caller's next line.
    assert.deepEqual(steps, [['in_executor', line('executor_call')], ['helper', line('helper_line')],
      ['in_executor', line('executor_return')]]);
    await s.client.continueRequest({ threadId: hit.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
  }));
});
