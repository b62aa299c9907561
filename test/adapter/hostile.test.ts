// Hostile input (issue #15, defects 9-12 and 19): malformed requests, numbers JSON cannot carry,
// answers over the frame limit, a client that stops reading, and launch paths that used to leave
// a listener open or a program behind. Each time: a clear error, the program untouched, nothing lost.
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { encodeFrame, FrameDecoder, FrameError } from '../../extension/adapter/framing';
import { eventually, fixture, markers, processAlive, PYTHON, Session } from './harness';

const HOSTILE = fixture('hostile.py');
const line = markers(HOSTILE);

/** Send a request exactly as given (DebugClient.send leaves out empty or null arguments). */
function sendRaw(client: DebugClient, command: unknown, args?: unknown): Promise<DebugProtocol.Response> {
  const raw = client as unknown as { sequence: number; pendingRequests: Map<number, (r: DebugProtocol.Response) => void>; outputStream: NodeJS.WritableStream };
  return new Promise((resolve) => {
    const seq = raw.sequence++;
    raw.pendingRequests.set(seq, resolve);
    const json = JSON.stringify({ type: 'request', seq, command, arguments: args });
    raw.outputStream.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
  });
}

async function refused(client: DebugClient, command: unknown, args: unknown, message: RegExp): Promise<void> {
  const response = await sendRaw(client, command, args);
  assert.equal(response.success, false, `${String(command)} ${JSON.stringify(args)} was answered with success`);
  assert.match(response.message ?? '', message, `${String(command)} ${JSON.stringify(args)}`);
}

const adapterProcess = (s: Session) => (s.client as unknown as { _adapterProcess: import('node:child_process').ChildProcess })._adapterProcess;

/** TCP sockets the process listens on (Linux /proc). */
function listeningSockets(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch { /* closed meanwhile */ }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'].filter(existsSync)) {
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const columns = row.trim().split(/\s+/);
      if (columns[3] === '0A' && inodes.has(columns[9])) count++; // 0A: LISTEN
    }
  }
  return count;
}

/** kB of a /proc/PID/status field (VmRSS, VmHWM). */
function memoryKb(pid: number, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Bytes the process has written so far (Linux /proc/PID/io). */
function bytesWritten(pid: number): number {
  return Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

async function withSession(body: (s: Session) => Promise<void>, session = new Session()): Promise<void> {
  await session.start();
  try {
    await body(session);
  } finally {
    await session.stop();
  }
}

describe('hostile requests (#15.9)', () => {
  it('answers each malformed request with an error saying what is wrong, and the session carries on', () => withSession(async (s) => {
    const program = fixture('counters.py');
    await s.launch({ program, stopOnEntry: true });
    const stop = await s.nextStop();
    const cases: [unknown, unknown, RegExp][] = [
      ['setExceptionBreakpoints', { filters: null }, /Invalid "setExceptionBreakpoints" request: arguments\.filters: expected array, got null/],
      ['setBreakpoints', { breakpoints: [{ line: 3 }] }, /Invalid "setBreakpoints" request: arguments: missing "source"/],
      ['setFunctionBreakpoints', {}, /Invalid "setFunctionBreakpoints" request: arguments: missing "breakpoints"/],
      ['setFunctionBreakpoints', undefined, /Invalid "setFunctionBreakpoints" request: it needs arguments \(breakpoints\)/],
      ['setBreakpoints', { source: { path: 42 }, breakpoints: [] }, /arguments\.source\.path: expected string, got 42/],
      ['setBreakpoints', { source: { path: program }, breakpoints: [{ line: 1.5 }] }, /arguments\.breakpoints\[0\]\.line: expected integer/],
      ['setFunctionBreakpoints', { breakpoints: [{ name: 7 }] }, /arguments\.breakpoints\[0\]\.name: expected string/],
      ['continue', { threadId: 'one' }, /arguments\.threadId: expected integer/],
      ['next', {}, /arguments: missing "threadId"/],
      ['stackTrace', { threadId: 1, levels: -1.5 }, /arguments\.levels: expected integer/],
      ['variables', { variablesReference: null }, /arguments\.variablesReference: expected integer, got null/],
      ['evaluate', null, /its arguments must be an object/],
      ['evaluate', [1, 2], /its arguments must be an object/],
      ['scopes', 'frame', /its arguments must be an object/],
      ['loopscope/advanceClock', { seconds: 'soon' }, /arguments\.seconds: expected number/],
      ['loopscope/cancelTask', {}, /arguments: missing "taskId"/],
      ['loopscope/snapshot', { maxTasks: 'all' }, /arguments\.maxTasks: expected integer/],
      ['setVariable', { variablesReference: 1, name: 2, value: '1' }, /arguments\.name: expected string/],
      ['setExpression', { expression: 'x' }, /arguments: missing "value"/],
      ['completions', { text: 'pri' }, /arguments: missing "column"/],
      [42, {}, /needs a "command" string/],
    ];
    for (const [command, args, message] of cases) await refused(s.client, command, args, message);
    // Nothing was changed by them: no breakpoint or filter was set, the program stops nowhere.
    await s.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.equal(s.text('stdout'), 'a 1\nb 1\na 2\nb 2\na 3\nb 3\nb 4\nb 5\ndone\n');
    assert.doesNotMatch(s.text('console'), /Internal error/);
  }));

  it('refuses the standard requests it does not advertise instead of pretending to do them, and a stale setVariable', () => withSession(async (s) => {
    await s.launch({ program: fixture('sleeper.py'), stopOnEntry: true });
    await s.nextStop();
    await refused(s.client, 'setVariable', { variablesReference: 987654, name: 'x', value: '1' }, /variables 987654 are gone/);
    await refused(s.client, 'restart', {}, /does not support the "restart" request/);
    await refused(s.client, 'goto', { threadId: 1, targetId: 1 }, /does not support the "goto" request/);
    await refused(s.client, 'attach', { processId: process.pid }, /debugs one program/);
    await refused(s.client, 'loopscope/nothing', {}, /does not know the request "loopscope\/nothing"/);
    const { body } = await s.client.stackTraceRequest({ threadId: 1 });
    assert.ok(body.stackFrames.length > 0);
  }));
});

describe('numbers JSON cannot carry (#15.10)', () => {
  it('shows a timer at +infinity as never due, and the snapshot, the stop and the program are fine', () => withSession(async (s) => {
    await s.launch({ program: HOSTILE, args: ['forever'] }, () =>
      s.client.setBreakpointsRequest({ source: { path: HOSTILE }, breakpoints: [{ line: line('forever-held') }] }));
    const stop = await s.nextStop();
    assert.ok(Number.isFinite(stop.body.loopscope.time));
    const { body } = await s.client.customRequest('loopscope/snapshot', {});
    const [loop] = body.loops;
    const never = loop.timers.filter((t: { never?: boolean }) => t.never);
    assert.equal(never.length, 1, JSON.stringify(loop.timers));
    assert.equal(never[0].when, undefined);
    assert.equal(never[0].dueIn, undefined);
    const task = loop.tasks.find((t: { name: string }) => t.name === 'forever');
    assert.equal(task.awaiting.description, 'sleep, forever');
    await s.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.equal(s.text('stdout'), 'sleeping forever\ncancelled forever\n');
  }));

  it('refuses to move the loop clock by a non-finite or absurd amount, with the reason', () => withSession(async (s) => {
    await s.launch({ program: HOSTILE, args: ['forever'] }, () =>
      s.client.setBreakpointsRequest({ source: { path: HOSTILE }, breakpoints: [{ line: line('forever-held') }] }));
    const stop = await s.nextStop();
    for (let i = 0; i < 2; i++) {
      await assert.rejects(s.client.customRequest('loopscope/advanceClock', { seconds: 1e308 }), /moves at most 1e\+09 s \(about 31 years\) at a time/);
    }
    await assert.rejects(s.client.customRequest('loopscope/advanceClock', { seconds: -1 }), /only moves forward/);
    await refused(s.client, 'loopscope/advanceClock', { seconds: null }, /arguments\.seconds: expected number, got null/);
    const before = stop.body.loopscope.time as number;
    const { body } = await s.client.customRequest('loopscope/advanceClock', { seconds: 5 });
    assert.ok(body.time >= before + 5 && body.time < before + 6, `${before} -> ${body.time}`);
    const snapshot = await s.client.customRequest('loopscope/snapshot', {});
    assert.ok(Number.isFinite(snapshot.body.loops[0].time));
    await s.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
  }));

  it('lets a virtual clock with only a timer at +infinity sleep, not spin, and still pause', () => withSession(async (s) => {
    await s.launch({ program: HOSTILE, args: ['virtual_forever'], clock: 'virtual' });
    const pid = (await s.next('process')).body.systemProcessId as number;
    await s.outputMatching(/jumped 1000 s/);
    // A loop that sleeps runs an iteration or two for each pause; one that spins, thousands between them.
    await s.client.pauseRequest({ threadId: 1 });
    const first = await s.nextStop();
    await s.client.continueRequest({ threadId: first.body.threadId });
    await new Promise((r) => setTimeout(r, 500));
    await s.client.pauseRequest({ threadId: 1 });
    const second = await s.nextStop();
    const ran = second.body.loopscope.iteration - first.body.loopscope.iteration;
    assert.ok(ran < 10, `the idle loop ran ${ran} iterations between two pauses`);
    const { body } = await s.client.customRequest('loopscope/snapshot', {});
    assert.ok(Number.isFinite(body.loops[0].time) && Number.isFinite(second.body.loopscope.time));
    assert.deepEqual(body.loops[0].timers.map((t: { never?: boolean }) => t.never), [true]);
    assert.ok(processAlive(pid));
  }));
});

describe('answers over the frame limit (#15.11)', () => {
  it('lists every task as a thread with a short name, refuses what does not fit, and the program stays held and works', () => withSession(async (s) => {
    await s.launch({ program: HOSTILE, args: ['many', '20000', '4000'], maxTaskThreads: 1_000_000 }, () =>
      s.client.setBreakpointsRequest({ source: { path: HOSTILE }, breakpoints: [{ line: line('many-held') }] }));
    const stop = await s.nextStop(60_000);
    // Built on the channel thread: 20,000 names of 4,000 characters would be 80 MB; cut, they fit.
    const { body: { threads } } = await s.client.threadsRequest();
    assert.equal(threads.length, 1 + 20_001, 'the loop, the main task and the 20,000 others');
    assert.ok(threads.every((t) => t.name.length <= 200), 'thread names are cut to 200 characters');
    assert.ok(threads.some((t) => /^t000042-x+…$/.test(t.name)));
    // Built on the held thread: too big to send, refused with the reason.
    await assert.rejects(s.client.customRequest('loopscope/snapshot', { maxTasks: 1_000_000 }),
      /the answer to snapshot is \d+ MiB, over the 64 MiB the control channel carries; ask for less at a time/);
    const frame = await s.topFrame(stop.body.threadId);
    const { body: { scopes } } = await s.client.scopesRequest({ frameId: frame.id });
    const { body: { variables: locals } } = await s.client.variablesRequest({ variablesReference: scopes[0].variablesReference });
    const big = locals.find((v) => v.name === 'big')!;
    await assert.rejects(s.client.variablesRequest({ variablesReference: big.variablesReference, count: 500_000 }),
      /at most 10000 variables at a time, not 500000: ask for them in pages/);
    const page = await s.client.variablesRequest({ variablesReference: big.variablesReference, start: 499_990, count: 10 });
    assert.deepEqual(page.body.variables.map((v) => v.name), Array.from({ length: 10 }, (_, i) => `[${499_990 + i}]`));
    // Still held, hooks still on: a step stops at the next line.
    await s.client.nextRequest({ threadId: stop.body.threadId });
    const next = await s.nextStop(60_000);
    assert.equal((await s.topFrame(next.body.threadId)).line, line('many-held') + 1);
    await s.client.continueRequest({ threadId: next.body.threadId });
    assert.equal((await s.next('exited', 60_000)).body.exitCode, 0);
    assert.match(s.text('stdout'), /made 20000 tasks and 500000 items\ncancelled them\n$/);
    assert.doesNotMatch(s.text('console'), /switched its hooks off/);
  }));
});

describe('a client that stops reading (#15.12)', () => {
  it('holds the program back instead of buffering its output, and delivers all of it, in order, before the stop', async function () {
    const megabytes = 200;
    const total = megabytes * 10_000;
    let received = 0;
    let partial = '';
    let disorder: string | undefined;
    let linesAtStop = -1;
    const session = new Session({}, { recordOutput: false });
    session.client.on('output', (event: DebugProtocol.OutputEvent) => {
      if (event.body.category !== 'stdout') return;
      const lines = (partial + event.body.output).split('\n');
      partial = lines.pop()!;
      for (const text of lines) {
        if (received < total && text !== `${String(received).padStart(9, '0')} ${'.'.repeat(89)}` && !disorder) {
          disorder = `line ${received} was ${JSON.stringify(text.slice(0, 30))}`;
        }
        received++;
      }
    });
    session.client.on('stopped', () => { linesAtStop = received; });
    await withSession(async (s) => {
      const adapter = adapterProcess(s);
      await s.launch({ program: HOSTILE, args: ['flood', String(megabytes)] }, () =>
        s.client.setBreakpointsRequest({ source: { path: HOSTILE }, breakpoints: [{ line: line('flooded') }] }));
      const pid = (await s.next('process')).body.systemProcessId as number;
      adapter.stdout!.pause(); // the client stops reading
      // The program blocks in write() once the pipes and the adapter's small backlog are full: what
      // it has written stays put, far short of all of it.
      let written = -1;
      let still = 0;
      await eventually(() => {
        const now = bytesWritten(pid);
        still = now === written ? still + 1 : 0;
        written = now;
        return still >= 20;
      }, 'the program waits for its output to be read', 60_000);
      const held = received;
      assert.ok(written < megabytes * 1_000_000 / 2, `the program wrote ${written} bytes while nobody read them`);
      assert.ok(processAlive(pid), 'the program is not killed for writing');
      assert.ok(memoryKb(adapter.pid!, 'VmRSS') < 150_000, `the adapter holds ${memoryKb(adapter.pid!, 'VmRSS')} kB`);
      adapter.stdout!.resume(); // and reads again
      const stop = await s.nextStop(120_000);
      assert.equal(linesAtStop, total, `every line printed before the stop arrives before it (held at ${held})`);
      assert.equal(disorder, undefined);
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited', 60_000)).body.exitCode, 0);
      assert.equal(received, total + 1);
      assert.equal(partial, '');
      const peak = memoryKb(adapter.pid!, 'VmHWM');
      assert.ok(peak < 200_000, `the adapter's peak RSS was ${peak} kB for ${megabytes} MB of output`);
    }, session);
  });
});

describe('launch paths (#15.19)', () => {
  const launchFails = async (args: Record<string, unknown>, message: RegExp) => {
    const session = new Session();
    await session.start();
    try {
      await session.client.initializeRequest({ adapterID: 'loopscope', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await assert.rejects(session.client.launchRequest({ python: PYTHON, ...args } as DebugProtocol.LaunchRequestArguments), message);
      assert.equal(listeningSockets(adapterProcess(session).pid!), 0, 'the adapter listens on no port after the failed launch');
    } finally {
      await session.client.stop();
    }
  };

  it('refuses a NUL byte in args, env, program or python, listening on nothing', async () => {
    await launchFails({ program: fixture('counters.py'), args: ['ok', 'a\0b'] }, /"args\[1\]" in launch\.json contains a NUL character/);
    await launchFails({ program: fixture('counters.py'), env: { X: 'a\0b' } }, /"env\.X" in launch\.json contains a NUL character/);
    await launchFails({ program: `${fixture('counters.py')}\0x` }, /"program" in launch\.json contains a NUL character/);
    await launchFails({ program: fixture('counters.py'), python: 'python\x003' }, /"python" in launch\.json contains a NUL character/);
  });

  it('says what is wrong with cwd: too long, missing, not a directory', async () => {
    await launchFails({ program: fixture('counters.py'), cwd: `/${'a'.repeat(5000)}` }, /The working directory is too long a path \(5001 characters\)\. Check "cwd"/);
    await launchFails({ program: fixture('counters.py'), cwd: '/nonexistent/loopscope' }, /The working directory "\/nonexistent\/loopscope" does not exist\. Check "cwd"/);
    await launchFails({ program: fixture('counters.py'), cwd: fixture('counters.py') }, /is not a directory\. Check "cwd"/);
  });

  it('refuses a non-string source.path before configurationDone; the launch and the program go on', () => withSession(async (s) => {
    let refusal: DebugProtocol.Response | undefined;
    await s.launch({ program: fixture('counters.py') }, async () => {
      refusal = await sendRaw(s.client, 'setBreakpoints', { source: { path: 7 }, breakpoints: [{ line: 1 }] });
    });
    assert.equal(refusal?.success, false);
    assert.match(refusal?.message ?? '', /arguments\.source\.path: expected string, got 7/);
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.match(s.text('stdout'), /b 5\ndone\n$/);
  }));

  it('closes and logs a client that drips bytes into the control port, 5 s after it connected', () => withSession(async (s) => {
    await s.launch({ program: fixture('counters.py'), python: fixture('slow_hello_python.py'), env: { LOOPSCOPE_REAL_PYTHON: PYTHON } });
    assert.equal((await s.next('exited', 30_000)).body.exitCode, 0);
    assert.match(s.text('console'), /Refused a connection to the control channel from 127\.0\.0\.1:\d+: no hello within 5 s/);
    // Not before its 5 s; and well before the 20 s the client would drip for (the old idle timeout never fired).
    const seconds = Number(/slow client closed after ([\d.]+) s/.exec(s.text('stderr'))?.[1]);
    assert.ok(seconds >= 4.5 && seconds < 15, `closed after ${seconds} s`);
    assert.match(s.text('stdout'), /b 5\ndone\n$/);
  }));
});

describe('frame decoder, hostile frames', () => {
  it('drops a frame that is not JSON and stays in step; a length over the limit ends the stream', () => {
    const decoder = new FrameDecoder(1 << 16);
    const bad = Buffer.concat([Buffer.from([0, 0, 0, 13]), Buffer.from('{"when":Infin')]);
    const items = decoder.feedTolerant(Buffer.concat([encodeFrame({ a: 1 }), bad, encodeFrame({ b: 2 })]));
    assert.deepEqual(items[0], { a: 1 });
    assert.ok(items[1] instanceof FrameError && items[1].payload?.toString() === '{"when":Infin');
    assert.deepEqual(items[2], { b: 2 });
    const over = decoder.feedTolerant(Buffer.from([0xff, 0, 0, 0, 1, 2]));
    assert.ok(over.length === 1 && over[0] instanceof FrameError && over[0].payload === undefined);
    assert.ok(decoder.feedTolerant(encodeFrame({ c: 3 }))[0] instanceof FrameError, 'nothing more is read');
  });

  it('copies a 60 MB frame that comes in 64 KiB chunks about once, not once per chunk', () => {
    const frame = encodeFrame({ data: 'x'.repeat(60 << 20) });
    const decoder = new FrameDecoder();
    const concat = Buffer.concat;
    let copied = 0;
    Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
      const joined = concat(list, length);
      copied += joined.length;
      return joined;
    }) as typeof Buffer.concat;
    let got: Record<string, unknown>[] = [];
    try {
      for (let at = 0; at < frame.length; at += 65536) got = got.concat(decoder.feed(frame.subarray(at, at + 65536)));
    } finally {
      Buffer.concat = concat;
    }
    assert.equal((got[0].data as string).length, 60 << 20);
    assert.ok(copied < 2 * frame.length, `${copied} bytes copied for a frame of ${frame.length}`);
  });
});
