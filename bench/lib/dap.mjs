// DAP clients for the benchmarks: the bundled Loopscope adapter over stdio (as VS Code runs it) and
// debugpy's adapter over TCP (as VS Code attaches to `python -m debugpy --listen`). Events are
// queued as they arrive, so a wait never misses an event that came before it, and every wait has
// a deadline so a stuck run fails instead of hanging the benchmark.
import testsupport from '@vscode/debugadapter-testsupport';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const { DebugClient } = testsupport;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADAPTER = path.join(ROOT, 'dist', 'debugAdapter.js');
const EVENT_KINDS = ['stopped', 'output', 'exited', 'terminated', 'thread', 'initialized', 'continued'];

/** The environment for every benchmarked process: protocol checking off (it slows every message). */
export function benchEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.LOOPSCOPE_CHECK_PROTOCOL;
  delete env.PYTHONPATH;
  return env;
}

/** Events of a DebugClient, queued per kind, each stamped with its arrival time (performance.now()). */
class EventQueues {
  constructor(client) {
    this.queues = new Map();
    this.waiters = new Map();
    this.stdout = '';
    this.stderr = '';
    for (const kind of EVENT_KINDS) client.on(kind, (event) => this.record(kind, event));
  }

  record(kind, event) {
    event.receivedAt = performance.now();
    if (kind === 'output') {
      if (event.body.category === 'stdout') this.stdout += event.body.output;
      else this.stderr += event.body.output;
    }
    const waiting = this.waiters.get(kind);
    if (waiting?.length) waiting.shift()(event);
    else this.queues.set(kind, [...(this.queues.get(kind) ?? []), event]);
  }

  next(kind, ms, describe = () => '') {
    const queued = this.queues.get(kind);
    if (queued?.length) return Promise.resolve(queued.shift());
    return new Promise((resolve, reject) => {
      const onEvent = (event) => { clearTimeout(timer); resolve(event); };
      const timer = setTimeout(() => {
        const list = this.waiters.get(kind);
        list.splice(list.indexOf(onEvent), 1);
        reject(new Error(`no '${kind}' event within ${ms} ms${describe()}`));
      }, ms);
      this.waiters.set(kind, [...(this.waiters.get(kind) ?? []), onEvent]);
    });
  }
}

/**
 * DebugClient's reader concatenates its whole buffer on every chunk, which is quadratic in the size
 * of a message: seconds for a snapshot of many megabytes. VS Code's reader is linear; so is this one,
 * so that the benchmark times the adapter and runtime, not the test client.
 */
function readLinearly(client) {
  let chunks = [];
  let buffered = 0;
  let contentLength = -1;
  client.handleData = (data) => {
    chunks.push(data);
    buffered += data.length;
    for (;;) {
      if (contentLength < 0) {
        const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        chunks = [head];
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const match = /Content-Length: *(\d+)/i.exec(head.toString('ascii', 0, end));
        const rest = head.subarray(end + 4);
        chunks = [rest];
        buffered = rest.length;
        if (!match) continue;
        contentLength = Number(match[1]);
      }
      if (buffered < contentLength) return;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const message = all.toString('utf8', 0, contentLength);
      const rest = all.subarray(contentLength);
      chunks = [rest];
      buffered = rest.length;
      contentLength = -1;
      if (message.length > 0) client.dispatch(message);
    }
  };
}

/** Reject after ms unless the promise settles first. */
export function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]);
}

/** One debug session of the bundled Loopscope adapter, spawned as `node dist/debugAdapter.js`. */
export class LoopscopeSession {
  constructor() {
    this.client = new DebugClient('node', ADAPTER, 'loopscope', { env: benchEnv() }, false);
    readLinearly(this.client);
    this.events = new EventQueues(this.client);
  }

  /** Spawn the adapter and initialize it. */
  async start() {
    this.spawnedAt = performance.now();
    await this.client.start();
    const { body } = await this.request('initialize', {
      adapterID: 'loopscope', clientID: 'loopscope-bench', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path',
    }, 30_000);
    this.capabilities = body ?? {};
  }

  /** Send a request with a deadline; resolves with the whole response, rejects with its message. */
  request(command, args, ms = 60_000) {
    return deadline(this.client.send(command, args), ms, command);
  }

  /**
   * launch, then the configuration sequence: configure(session) runs after `initialized`, then
   * configurationDone. Resolves with the launch response. launchStartedAt is when launch was sent.
   */
  async launch(args, configure, ms = 60_000) {
    this.launchStartedAt = performance.now();
    const launched = this.request('launch', args, ms);
    const configured = this.events.next('initialized', ms, () => this.tail()).then(async () => {
      if (configure) await configure(this);
      await this.request('configurationDone', {});
    });
    const [response] = await Promise.all([launched, configured]);
    return response;
  }

  nextEvent(kind, ms = 60_000) {
    return this.events.next(kind, ms, () => this.tail());
  }

  /** Wait until the program has ended; resolves with its exit code. */
  async finished(ms) {
    const exited = await this.nextEvent('exited', ms);
    await this.nextEvent('terminated', 10_000).catch(() => undefined);
    return exited.body.exitCode;
  }

  get stdout() {
    return this.events.stdout;
  }

  tail() {
    const text = (this.events.stdout + this.events.stderr).trim();
    return text ? `; output so far:\n${text.slice(-1500)}` : '';
  }

  async stop() {
    try {
      await deadline(this.client.send('disconnect', { terminateDebuggee: true }), 10_000, 'disconnect');
    } catch { /* already gone */ }
    this.client.stopAdapter();
  }
}

/** A free TCP port on loopback (listen on 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A TCP connection to a loopback port, or a rejection (ECONNREFUSED while nobody listens yet). */
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (error) => { socket.destroy(); reject(error); });
  });
}

/**
 * A program run under debugpy as VS Code's "attach to a listening debugpy" does it: start
 * `python -m debugpy --listen 127.0.0.1:PORT --wait-for-client PROGRAM`, connect a DAP client to
 * PORT, initialize, attach, configure (breakpoints), configurationDone. The program's own stdout is
 * read from the child process.
 */
export class DebugpySession {
  constructor(python, program, args, cwd) {
    this.python = python;
    this.program = program;
    this.args = args;
    this.cwd = cwd;
    this.stdout = '';
    this.stderr = '';
  }

  async start(configure, ms = 60_000) {
    this.port = await freePort();
    this.child = spawn(this.python, ['-m', 'debugpy', '--listen', `127.0.0.1:${this.port}`, '--wait-for-client', this.program, ...this.args],
      { cwd: this.cwd, env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout.on('data', (d) => { this.stdout += d; });
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    const until = performance.now() + ms;
    // debugpy's adapter process starts listening a little after the debuggee does: retry.
    for (;;) {
      try {
        const socket = await connect(this.port);
        const client = new DebugClient('python', '', 'python', {}, false);
        readLinearly(client);
        client._socket = socket;
        client.connect(socket, socket);
        this.client = client;
        break;
      } catch (error) {
        if (performance.now() > until || this.child.exitCode !== null) {
          throw new Error(`debugpy did not listen on ${this.port}: ${error.message}; stderr: ${this.stderr.slice(-1500)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.events = new EventQueues(this.client);
    await deadline(this.client.send('initialize', {
      adapterID: 'python', clientID: 'loopscope-bench', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path',
    }), ms, 'debugpy initialize');
    const attached = deadline(this.client.send('attach', {
      name: 'bench', type: 'python', request: 'attach', connect: { host: '127.0.0.1', port: this.port }, justMyCode: true,
    }), ms, 'debugpy attach');
    const configured = this.events.next('initialized', ms).then(async () => {
      if (configure) await configure(this.client);
      await deadline(this.client.send('configurationDone', {}), ms, 'debugpy configurationDone');
    });
    await Promise.all([attached, configured]);
  }

  /** Wait until the program exits; resolves with its exit code. */
  async finished(ms) {
    const exit = await deadline(this.exited, ms, 'program under debugpy');
    return exit.code ?? 128;
  }

  async stop() {
    const running = this.child && this.child.exitCode === null && this.child.signalCode === null;
    if (this.client) {
      try {
        if (running) await deadline(this.client.send('disconnect', { terminateDebuggee: true }), 5_000, 'disconnect');
      } catch { /* already gone */ }
      this.client.stopAdapter();
    }
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
