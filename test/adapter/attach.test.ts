// Attaching the bundled adapter to running programs by process id, on every CPython pyenv has: an
// HTTP server under load, the idle deadlock, the busy callback, a loop on another thread; the session
// is a launched one's (tasks as threads, views, task-switch breakpoints, stepping, line breakpoints,
// pause), and a disconnect leaves the program running as it was. Plus every way an attach can fail.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeProcess, listPythonProcesses, processSummary } from '../../extension/adapter/pythonProcess';
import { eventually, FIXTURES, markers, processAlive, PYTHON, ROOT, Session, Stop, supportedPythons } from './harness';

const ATTACH = path.join(FIXTURES, 'attach');
const TARGET = path.join(ATTACH, 'target.py');
const SERVER = path.join(ATTACH, 'http_server.py');
const LOAD = path.join(ATTACH, 'http_load.py');
const line = markers(SERVER);
const HAS_GDB = spawnSync('gdb', ['--version']).status === 0;
const minor = (version: string) => Number(version.split('.')[1]);

/** A program started for a test, with its own report of itself (selfreport.py) on SIGUSR1. */
class Program {
  readonly pid: number;
  private buffered = '';
  private readonly waiting: { prefix: string; resolve: (line: string) => void }[] = [];

  private constructor(readonly child: ChildProcess, readonly ready: string[]) {
    this.pid = child.pid!;
  }

  static async start(python: string, script: string, ...args: string[]): Promise<Program> {
    const child = spawn(python, ['-u', script, ...args], { cwd: ATTACH, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const program = new Program(child, []);
    child.stdout!.on('data', (chunk: Buffer) => program.take(chunk.toString()));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
    const ready = await Promise.race([program.line('READY'), new Promise<string>((_resolve, reject) => {
      setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not start: ${stderr}`)), 20_000);
    })]);
    program.ready.push(...ready.split(' ').slice(1));
    return program;
  }

  private take(text: string): void {
    this.buffered += text;
    let end;
    while ((end = this.buffered.indexOf('\n')) >= 0) {
      const found = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      const index = this.waiting.findIndex((w) => found.startsWith(w.prefix));
      if (index >= 0) this.waiting.splice(index, 1)[0].resolve(found);
    }
  }

  line(prefix: string): Promise<string> {
    return new Promise((resolve) => this.waiting.push({ prefix, resolve }));
  }

  async state(): Promise<Record<string, any>> {
    const answer = this.line('STATE ');
    process.kill(this.pid, 'SIGUSR1');
    const text = await Promise.race([answer, new Promise<string>((_r, reject) => setTimeout(() => reject(new Error('no STATE answer')), 20_000))]);
    return JSON.parse(text.slice('STATE '.length));
  }

  stop(): void {
    try { process.kill(-this.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

async function withProgram(python: string, script: string, args: string[], body: (program: Program) => Promise<void>): Promise<void> {
  const program = await Program.start(python, script, ...args);
  try {
    await body(program);
  } finally {
    program.stop();
  }
}

async function attached(program: Program, body: (session: Session, stop: Stop) => Promise<void>, args: Record<string, unknown> = {},
  configure?: (session: Session) => Promise<unknown>): Promise<void> {
  const session = new Session();
  await session.start();
  try {
    await session.attach({ processId: program.pid, ...args }, configure && (() => configure(session)));
    await body(session, await session.nextStop());
  } finally {
    await session.stop();
  }
}

/** A port nothing listens on (one the OS just gave and took back). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const snapshot = async (session: Session) => (await session.client.customRequest('loopscope/snapshot', {})).body.loops;
const threads = async (session: Session) => (await session.client.threadsRequest()).body.threads;

/** A disconnect leaves nothing of Loopscope's in the program (selfreport.py's view of itself). */
async function assertLeftAsItWas(program: Program, before: Record<string, any>): Promise<Record<string, any>> {
  let state: Record<string, any> = {};
  const deadline = Date.now() + 10_000; // the signal handlers go back when the main thread next runs
  do {
    state = await program.state();
  } while ((state.signals.join() !== before.signals.join() || state.os_threads !== before.os_threads) && Date.now() < deadline);
  assert.deepEqual(state.patched, []);
  assert.deepEqual(state.loopscope_modules, []);
  assert.deepEqual(state.monitoring, before.monitoring);
  assert.equal(state.trace, 'None');
  assert.deepEqual(state.signals, before.signals);
  assert.equal(state.os_threads, before.os_threads, 'a thread of Loopscope\'s is left');
  assert.ok(state.clock_skew < 0.05, `the loop clock is ${state.clock_skew} s off the plain clock`);
  return state;
}

describe('attach by process id', function () {
  this.timeout(180_000);
  before(function () {
    if (!HAS_GDB && supportedPythons().every((p) => minor(p.version) < 14)) this.skip();
  });

  for (const python of supportedPythons()) {
    describe(`CPython ${python.version}`, () => {
      before(function () {
        if (!HAS_GDB && minor(python.version) < 14) this.skip();
      });

      it('debugs an HTTP server under load, then leaves it serving as before', () => withProgram(python.path, SERVER, [], async (server) => {
        const before = await server.state();
        const load = spawn(python.path, [LOAD, server.ready[1], '4'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
        try {
          let answered = 0;
          load.stdout!.on('data', (chunk: Buffer) => { answered = Number(/ANSWERED (\d+)\s*$/.exec(chunk.toString())?.[1] ?? answered); });
          await eventually(() => answered >= 100, 'the load answered');
          await attached(server, async (session, stop) => {
            assert.equal(stop.body.description, 'attached');
            // Tasks as threads: each connection's handler.
            const handlers = (await threads(session)).filter((t) => / · handle$/.test(t.name));
            assert.ok(handlers.length >= 1, JSON.stringify(await threads(session)));
            const [loop] = await snapshot(session);
            assert.equal(loop.state, 'paused');
            assert.ok(loop.tasks.some((t: any) => t.coroutine === 'handle'), JSON.stringify(loop.tasks.map((t: any) => t.coroutine)));
            // A line breakpoint in the handler, then stepping over its next line.
            await session.client.setBreakpointsRequest({ source: { path: SERVER }, breakpoints: [{ line: line('respond') }] });
            await session.client.continueRequest({ threadId: stop.body.threadId });
            const hit = await session.nextStop();
            assert.equal(hit.body.reason, 'breakpoint');
            assert.equal((await session.topFrame(hit.body.threadId)).line, line('respond'));
            await session.client.nextRequest({ threadId: hit.body.threadId });
            const stepped = await session.nextStop();
            assert.equal((await session.topFrame(stepped.body.threadId)).line, line('respond') + 1);
            await session.client.setBreakpointsRequest({ source: { path: SERVER }, breakpoints: [] });
            // A task-switch breakpoint on the handler's coroutine.
            await session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'handle' }] });
            await session.client.continueRequest({ threadId: stepped.body.threadId });
            const switched = await session.nextStop();
            assert.equal(switched.body.reason, 'function breakpoint');
            await session.client.setFunctionBreakpointsRequest({ breakpoints: [] });
            // Step one loop iteration, then pause the running server.
            await session.client.customRequest('loopscope/stepIteration', { threadId: switched.body.threadId });
            assert.equal((await session.nextStop()).body.reason, 'step');
            await session.client.continueRequest({ threadId: switched.body.threadId });
            await session.client.pauseRequest({ threadId: 0 });
            assert.equal((await session.nextStop()).body.reason, 'pause');
          });
          const after = answered;
          await eventually(() => answered >= after + 200, 'the server answering again after the detach');
          assert.ok(processAlive(server.pid));
          await assertLeftAsItWas(server, before);
        } finally {
          try { process.kill(-load.pid!, 'SIGKILL'); } catch { /* gone */ }
        }
      }));

      it('holds the idle deadlock, the busy callback and a loop on another thread', async () => {
        for (const [mode, where] of [['idle', 'iteration'], ['busy', 'code'], ['thread', 'iteration']]) {
          await withProgram(python.path, TARGET, [mode], async (program) => {
            await attached(program, async (session, stop) => {
              assert.equal(stop.body.loopscope.where, where, mode);
              const [loop] = await snapshot(session);
              assert.equal(loop.state, 'paused', mode);
              if (mode === 'busy') assert.equal((await session.topFrame(stop.body.threadId)).name, 'spin');
              else assert.deepEqual(loop.tasks.map((t: any) => t.name).sort(), ['Task-1', 'waits-for-a', 'waits-for-b']);
            });
            assert.ok(processAlive(program.pid), `${mode}: the program ended with the session`);
          });
        }
      });
    });
  }
});

describe('attach: the session ends, the program runs on', function () {
  this.timeout(120_000);
  before(function () { if (!HAS_GDB) this.skip(); });

  it('leaves the program running on Stop (disconnect with terminateDebuggee) and on terminate', () => withProgram(PYTHON, TARGET, ['counter'], async (program) => {
    for (const end of ['disconnect', 'terminate'] as const) {
      const session = new Session();
      await session.start();
      try {
        await session.attach({ processId: program.pid, stopOnEntry: false });
        if (end === 'disconnect') await session.client.disconnectRequest({ terminateDebuggee: true });
        else await session.client.terminateRequest({});
        await session.next('terminated');
        assert.match(session.text('console'), /Detached from process \d+, which Loopscope did not start, so it was not ended/);
      } finally {
        await session.client.stop();
      }
      const ticks = (await program.state()).progress.ticks;
      await eventually(() => processAlive(program.pid), 'alive');
      const later = await program.state();
      assert.ok(later.progress.ticks >= ticks, end);
      assert.deepEqual(later.loopscope_modules, [], end);
    }
  }));

  it('says when the program exits while attached', () => withProgram(PYTHON, TARGET, ['idle'], async (program) => {
    const session = new Session();
    await session.start();
    try {
      await session.attach({ processId: program.pid });
      await session.nextStop();
      program.stop();
      await session.next('terminated');
      assert.match(session.text('console'), new RegExp(`Process ${program.pid} exited`));
    } finally {
      await session.stop();
    }
  }));
});

describe('attach: what cannot be attached to, and why', function () {
  this.timeout(120_000);

  async function attachFails(args: Record<string, unknown>, expected: RegExp): Promise<void> {
    const session = new Session();
    await session.start();
    try {
      await assert.rejects(session.attach(args), (error: Error) => {
        assert.match(error.message, expected);
        return true;
      });
    } finally {
      await session.stop();
    }
  }

  it('refuses configurations that say nothing or too much', async () => {
    await attachFails({ stopOnEntry: true }, /set "processId" .* or "connect"/);
    await attachFails({ processId: 1, connect: { port: 1 } }, /either "processId" or "connect"/);
    await attachFails({ processId: 'abc' }, /"processId" .* must be a process id/);
    await attachFails({ processId: '${command:pickProcess}' }, /this client does not pick processes/);
    await attachFails({ connect: { port: 70000 } }, /"connect.port" .* 1 to 65535/);
    await attachFails({ connect: {} }, /"connect" in launch.json needs "port"/);
  });

  it('says there is no such process', () => attachFails({ processId: 2 ** 22 + 12345 }, /There is no process/));

  it('says a process is not Python', async () => {
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await attachFails({ processId: sleeper.pid }, /is not a Python process/);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('says which Python versions it supports', async function () {
    const versions = path.join(process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv'), 'versions');
    const old = (existsSync(versions) ? readdirSync(versions) : []).filter((v) => /^3\.[67]\./.test(v))
      .map((v) => path.join(versions, v, 'bin', 'python3')).filter((p) => existsSync(p));
    if (!old.length) this.skip();
    const sleeper = spawn(old[0], ['-c', 'import time; time.sleep(600)'], { stdio: 'ignore' });
    try {
      await eventually(() => !!sleeper.pid, 'started');
      await attachFails({ processId: sleeper.pid }, /runs Python 3\.[67]; Loopscope supports Python 3\.8 to 3\.\d+/);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('says another debugger traces the process', async function () {
    if (!HAS_GDB) this.skip();
    await withProgram(PYTHON, TARGET, ['idle'], async (program) => {
      const tracer = spawn('gdb', ['-nx', '--batch', '-p', String(program.pid), '-ex', 'shell sleep 60'], { stdio: 'ignore' });
      try {
        await eventually(() => / TracerPid:\s*[1-9]/.test(` ${spawnSync('grep', ['TracerPid', `/proc/${program.pid}/status`]).stdout}`), 'gdb attached', 20_000);
        await attachFails({ processId: program.pid }, /is being traced by process \d+ .*gdb.*Detach that one first/);
      } finally {
        tracer.kill('SIGKILL');
      }
    });
  });

  it('refuses a second session while one is attached', async function () {
    if (!HAS_GDB) this.skip();
    await withProgram(PYTHON, TARGET, ['idle'], async (program) => {
      await attached(program, async (first) => {
        await attachFails({ processId: program.pid }, /attached to this program already, from another debug session/);
        assert.equal((await snapshot(first))[0].state, 'paused');
      });
    });
  });

  it('refuses a program that never imported asyncio', async function () {
    if (!HAS_GDB) this.skip();
    await withProgram(PYTHON, path.join(ATTACH, 'plain.py'), [], async (program) => {
      await attachFails({ processId: program.pid }, /has not imported asyncio/);
    });
  });
});

describe('connect to a program that listens for Loopscope', function () {
  this.timeout(120_000);

  /** python -m loopscope --listen 127.0.0.1:0 target.py idle: the program and the port it listens on. */
  async function listening(): Promise<{ program: ChildProcess; port: number; tokenFile: string }> {
    const runtime = path.join(ROOT, 'runtime');
    const program = spawn(PYTHON, ['-u', '-m', 'loopscope', '--listen', '127.0.0.1:0', TARGET, 'idle'],
      { cwd: ATTACH, env: { ...process.env, PYTHONPATH: runtime }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    const found = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 20_000);
      program.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk;
        const match = /listening on 127\.0\.0\.1:(\d+) \(token in (\S+), readable/.exec(stderr);
        if (match) { clearTimeout(timer); resolve(match); }
      });
    });
    return { program, port: Number(found[1]), tokenFile: found[2] };
  }

  it('debugs it, detaches, and connects again with the next one-time token', async () => {
    const { program, port } = await listening();
    try {
      for (const round of [1, 2]) {
        const session = new Session();
        await session.start();
        try {
          await session.attach({ connect: { port } });
          const stop = await session.nextStop();
          assert.equal(stop.body.description, 'attached', `round ${round}`);
          assert.equal((await snapshot(session))[0].state, 'paused');
          assert.match(session.text('console'), new RegExp(`Connected to process ${program.pid} .* listening on 127\\.0\\.0\\.1:${port}`));
        } finally {
          await session.stop();
        }
        assert.ok(processAlive(program.pid!), `round ${round}: the program ended with the session`);
      }
    } finally {
      try { process.kill(-program.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
  });

  it('says when nothing listens, and when the token file is not private', async () => {
    const session = new Session();
    await session.start();
    try {
      const { program, port, tokenFile } = await listening();
      try {
        chmodSync(tokenFile, 0o644);
        await assert.rejects(session.attach({ connect: { port } }), /can be read by other users .* Restart the listener/);
      } finally {
        try { process.kill(-program.pid!, 'SIGKILL'); } catch { /* gone */ }
      }
    } finally {
      await session.stop();
    }
    const again = new Session();
    await again.start();
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'loopscope-token-'));
    try {
      const junk = path.join(scratch, 'junk');
      writeFileSync(junk, 'not a token\n', { mode: 0o600 });
      await assert.rejects(again.attach({ connect: { port: 9, tokenFile: junk } }), /does not hold a Loopscope token/);
      const token = path.join(scratch, 'token');
      writeFileSync(token, `${'a'.repeat(64)}\n`, { mode: 0o600 });
      const closed = await freePort();
      await assert.rejects(again.attach({ connect: { port: closed, tokenFile: token } }), new RegExp(`Nothing listens at 127\\.0\\.0\\.1:${closed}`));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      await again.stop();
    }
  });
});

describe('a 3.14+ program that lets no code in, read from outside', function () {
  this.timeout(120_000);

  for (const python of supportedPythons().filter((p) => minor(p.version) >= 14)) {
    it(`shows its loops and tasks read-only (CPython ${python.version})`, async () => {
      const program = spawn(python.path, ['-u', TARGET, 'multi'], {
        cwd: ATTACH, env: { ...process.env, PYTHON_DISABLE_REMOTE_DEBUG: '1' }, stdio: ['ignore', 'pipe', 'ignore'], detached: true,
      });
      try {
        await new Promise<void>((resolve) => program.stdout!.on('data', (chunk: Buffer) => { if (/READY/.test(chunk.toString())) resolve(); }));
        const session = new Session();
        await session.start();
        try {
          await session.attach({ processId: program.pid });
          const stop = await session.nextStop();
          assert.equal(stop.body.description, 'read-only');
          assert.match(session.text('console'), /PYTHON_DISABLE_REMOTE_DEBUG .*\nRead-only: Loopscope shows/s);
          const loops = await snapshot(session);
          const names = loops.flatMap((loop: any) => loop.tasks.map((t: any) => t.name));
          assert.ok(names.includes('waits-for-a') && names.includes('waits-for-b'), JSON.stringify(names));
          const waiter = (await threads(session)).find((t) => t.name.startsWith('waits-for-a'))!;
          const frames = (await session.client.stackTraceRequest({ threadId: waiter.id })).body.stackFrames;
          assert.deepEqual(frames.map((f) => f.name), ['Event.wait', 'deadlock.<locals>.waits_for']);
          await assert.rejects(session.client.evaluateRequest({ expression: '1 + 1', context: 'repl' }), /read-only/);
          await session.client.pauseRequest({ threadId: 0 });
          assert.equal((await session.nextStop()).body.description, 'read-only');
        } finally {
          await session.stop();
        }
        assert.ok(processAlive(program.pid!));
      } finally {
        try { process.kill(-program.pid!, 'SIGKILL'); } catch { /* gone */ }
      }
    });
  }
});

describe("the process picker's list (/proc, nothing run in the processes)", function () {
  this.timeout(60_000);

  it('lists Python processes with their version and loop hints, and leaves others out', async () => {
    const python = supportedPythons().find((p) => minor(p.version) <= 13) ?? supportedPythons()[0];
    await withProgram(python.path, TARGET, ['idle'], async (program) => {
      const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
      try {
        await eventually(() => (describeProcess(program.pid)?.waitingInSelect ?? 0) > 0, 'the loop waiting in select', 10_000);
        const listed = listPythonProcesses();
        const facts = listed.find((p) => p.pid === program.pid);
        assert.ok(facts, `pid ${program.pid} not listed among ${listed.map((p) => p.pid).join(', ')}`);
        assert.deepEqual(facts!.python, python.version.split('.').slice(0, 2).map(Number));
        assert.match(facts!.command, /target\.py idle$/);
        const summary = processSummary(facts!);
        assert.match(summary, new RegExp(`^Python ${python.version.split('.').slice(0, 2).join('\\.')}`));
        assert.match(summary, /1 thread waiting in select/);
        assert.ok(!listed.some((p) => p.pid === sleeper.pid), 'sleep is not Python');
        assert.equal(describeProcess(sleeper.pid!)?.python, undefined);
      } finally {
        sleeper.kill('SIGKILL');
      }
    });
  });
});
