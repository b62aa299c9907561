// The raised and uncaught exception filters everywhere (module level, a callback, a thread, a library
// call that fails into user code), their conditions, DAP exception options, justMyCode, and
// exceptionInfo. Through the real adapter, on every Python on the machine.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { fixture, markers, Session, Stop, supportedPythons, withSession } from './harness';

const PROGRAM = fixture('everywhere/exceptions.py');
const line = markers(PROGRAM);

interface Seen { line: number; frame: string; thread: string; text: string; info: DebugProtocol.ExceptionInfoResponse['body'] }

/** Every stop until the program exits, with where it is and what exceptionInfo says; continues each. */
async function everyStop(s: Session): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (let stop: Stop | undefined = await s.nextStopOrExit(); stop; stop = await s.nextStopOrExit()) {
    assert.equal(stop.body.reason, 'exception');
    const top = await s.topFrame(stop.body.threadId);
    const { body: { threads } } = await s.client.threadsRequest();
    const { body: info } = await s.client.exceptionInfoRequest({ threadId: stop.body.threadId });
    seen.push({ line: top.line, frame: top.name, thread: threads.find((t) => t.id === stop!.body.threadId)?.name ?? '?', text: stop.body.text!, info });
    await s.client.continueRequest({ threadId: stop.body.threadId });
  }
  return seen;
}

const filters = (s: Session, args: Partial<DebugProtocol.SetExceptionBreakpointsArguments>) =>
  s.client.setExceptionBreakpointsRequest({ filters: [], ...args });

describe('exception filters everywhere', () => {
  for (const python of supportedPythons()) {
    it(`uncaught stops before a callback's exception reaches the loop, a thread dies, and the program ends (Python ${python.version})`, () => withSession(async (s) => {
      await s.launch({ program: PROGRAM, python: python.path }, () => filters(s, { filters: ['uncaught'] }));
      const seen = await everyStop(s);
      assert.deepEqual(seen.map((x) => [x.line, x.info.exceptionId, x.info.breakMode]), [
        [line('callback_raise'), 'LookupError', 'unhandled'], [line('thread_raise'), 'RuntimeError', 'unhandled'],
        [line('final_raise'), 'ValueError', 'unhandled'],
      ]);
      const [inCallback, inThread, atTop] = seen;
      assert.match(inCallback.text, /^Uncaught LookupError: 'in callback' at exceptions\.py:\d+; callback callback passes it to the exception handler of event loop \d+ \(MainThread\)$/);
      assert.equal(inThread.thread, 'Thread doomed');
      assert.match(inThread.text, /; it ends thread doomed$/);
      assert.equal(atTop.thread, 'Thread MainThread');
      assert.match(atTop.text, /^Uncaught ValueError: 'the end' at exceptions\.py:\d+; it ends the program$/);
      assert.match(atTop.info.details!.stackTrace!, /line \d+, in <module>\n\s+finish\(\)\n[^]*in finish\n\s+raise ValueError\("the end"\)[^]*ValueError: the end\n$/);
      assert.doesNotMatch(atTop.info.details!.stackTrace!, /loopscope/);
      // Then everything ends as it would without the debugger.
      assert.equal((await s.next('exited')).body.exitCode, 1);
      assert.match(s.text('stderr'), /Exception in thread doomed[^]*RuntimeError: thread dies/);
      assert.match(s.text('stderr'), /Traceback \(most recent call last\):[^]*ValueError: the end\n/);
      assert.match(s.text('stdout'), /not json/);
    }));

    it(`raised stops at module level, in a callback, in a thread, and where a library's exception reaches user code (Python ${python.version})`, () => withSession(async (s) => {
      await s.launch({ program: PROGRAM, python: python.path }, () => filters(s, { filters: ['raised'] }));
      const seen = await everyStop(s);
      assert.deepEqual(seen.map((x) => [x.line, x.info.exceptionId, x.info.breakMode]), [
        [line('module_raise'), 'KeyError', 'always'], [line('callback_raise'), 'LookupError', 'always'],
        [line('thread_raise'), 'RuntimeError', 'always'], [line('json_call'), 'json.decoder.JSONDecodeError', 'always'],
        [line('final_raise'), 'ValueError', 'always'],
      ]);
      assert.equal(seen[0].thread, 'Thread MainThread');
      assert.equal(seen[2].thread, 'Thread doomed');
      assert.match(seen[3].text, /^Raised JSONDecodeError: .* at exceptions\.py:\d+ in task Task-1$/);
      // The full traceback: the frames above the raise, then the library's own frames below it.
      assert.match(seen[3].info.details!.stackTrace!, /in main\n[^]*in parse\n\s+return json\.loads\(text\)[^]*json[/\\]decoder\.py[^]*JSONDecodeError: /);
      assert.equal((await s.next('exited')).body.exitCode, 1);
    }));
  }

  it('a filter condition: exception class names, or an expression with `exception` bound', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () => filters(s, { filterOptions: [{ filterId: 'raised', condition: 'KeyError, RuntimeError' }] }));
    assert.deepEqual((await everyStop(s)).map((x) => x.line), [line('module_raise'), line('thread_raise')]);
  }));

  it('a filter condition that is an expression', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () =>
      filters(s, { filterOptions: [{ filterId: 'raised', condition: "isinstance(exception, ValueError) and 'end' in str(exception)" }] }));
    assert.deepEqual((await everyStop(s)).map((x) => x.line), [line('final_raise')]);
  }));

  it('says which condition is not Python, and leaves the filter off', () => withSession(async (s) => {
    let answer: DebugProtocol.SetExceptionBreakpointsResponse['body'] | undefined;
    await s.launch({ program: PROGRAM }, async () => {
      answer = (await filters(s, { filterOptions: [{ filterId: 'uncaught' }, { filterId: 'raised', condition: 'a b' }] })).body;
    });
    assert.deepEqual(answer?.breakpoints?.map((b) => b.verified), [true, false]);
    assert.match(answer!.breakpoints![1].message!, /condition is not a Python expression/);
    assert.deepEqual((await everyStop(s)).map((x) => x.line), [line('callback_raise'), line('thread_raise'), line('final_raise')]);
  }));

  it('answers for each filter and exception option in order, whichever side reads its condition', () => withSession(async (s) => {
    // Loop blocked's threshold is read by the adapter, the exception filters' conditions by the runtime.
    let answer: DebugProtocol.SetExceptionBreakpointsResponse['body'] | undefined;
    await s.launch({ program: PROGRAM }, async () => {
      answer = (await filters(s, {
        filters: [],
        filterOptions: [{ filterId: 'loopBlocked', condition: 'soon' }, { filterId: 'raised', condition: 'KeyError' },
          { filterId: 'taskSwitch', condition: 'x' }, { filterId: 'uncaught', condition: 'a b' }],
        exceptionOptions: [{ path: [{ names: ['Python Exceptions'] }, { names: ['RuntimeError'] }], breakMode: 'never' }],
      })).body;
    });
    assert.deepEqual(answer?.breakpoints?.map((b) => b.verified), [false, true, false, false, true]);
    const messages = answer!.breakpoints!.map((b) => b.message ?? '');
    assert.match(messages[0], /"soon" is not one/);
    assert.match(messages[2], /^Task switch takes no condition\.$/);
    assert.match(messages[3], /condition is not a Python expression/);
    // Only raised, for KeyError, is on: not Task switch, not Uncaught, not Loop blocked.
    assert.deepEqual((await everyStop(s)).map((x) => x.line), [line('module_raise')]);
    assert.equal((await s.next('exited')).body.exitCode, 1);
  }));

  it('exception options: always for one class stops where it is raised and where nothing catches it', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () => filters(s, {
      exceptionOptions: [{ path: [{ names: ['Python Exceptions'] }, { names: ['RuntimeError'] }], breakMode: 'always' }],
    }));
    const seen = await everyStop(s);
    assert.deepEqual(seen.map((x) => [x.line, x.info.breakMode]), [[line('thread_raise'), 'always'], [line('thread_raise'), 'unhandled']]);
  }));

  it('exception options: never for one class, whatever the filters say', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM }, () => filters(s, {
      filters: ['raised'], exceptionOptions: [{ path: [{ names: ['Python Exceptions'] }, { names: ['ValueError'] }], breakMode: 'never' }],
    }));
    assert.deepEqual((await everyStop(s)).map((x) => x.line), [line('module_raise'), line('callback_raise'), line('thread_raise')]);
  }));

  it('with justMyCode false, raised stops inside the library too', () => withSession(async (s) => {
    await s.launch({ program: PROGRAM, justMyCode: false }, () =>
      filters(s, { filterOptions: [{ filterId: 'raised', condition: 'json.JSONDecodeError' }] }));
    const seen = await everyStop(s);
    assert.match(seen[0].text, /^Raised JSONDecodeError: .* at decoder\.py:\d+ in task Task-1$/);
    assert.ok(seen.length >= 1);
  }));
});
