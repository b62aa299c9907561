// DAP clients for the benchmarks: a debug adapter spawned over stdio as VS Code spawns it, either
// the bundled Loopscope adapter (`node dist/debugAdapter.js`) or debugpy's (`python .../debugpy/adapter`,
// what VS Code's Python Debugger extension runs). Events are queued as they arrive, so a wait never
// misses an event that came before it, and every wait has a deadline so a stuck run fails instead
// of hanging the benchmark.
import testsupport from '@vscode/debugadapter-testsupport';
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

/**
 * One debug session of an adapter spawned over stdio (its own process group, so that whatever it
 * spawned can be ended with it). The program's output arrives as DAP output events.
 */
class AdapterSession {
  constructor(runtime, executable, adapterID) {
    this.adapterID = adapterID;
    this.client = new DebugClient(runtime, executable, adapterID, { env: benchEnv(), detached: true }, false);
    readLinearly(this.client);
    this.events = new EventQueues(this.client);
  }

  /** Spawn the adapter and initialize it. */
  async start() {
    this.spawnedAt = performance.now();
    await this.client.start();
    const { body } = await this.request('initialize', {
      adapterID: this.adapterID, clientID: 'loopscope-bench', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path',
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
    const adapter = this.client._adapterProcess;
    this.client.stopAdapter();
    if (adapter?.pid) {
      try { process.kill(-adapter.pid, 'SIGKILL'); } catch { /* the group has ended */ }
    }
  }
}

/** The bundled Loopscope adapter, as the extension runs it: `node dist/debugAdapter.js`. */
export class LoopscopeSession extends AdapterSession {
  constructor() {
    super('node', ADAPTER, 'loopscope');
  }
}

/**
 * debugpy's adapter as VS Code's Python Debugger extension runs it: `PYTHON DEBUGPY_DIR/adapter`
 * over stdio. Its launch request starts the program through debugpy's launcher.
 */
export class DebugpySession extends AdapterSession {
  constructor(python, debugpyDir) {
    super(python, path.join(debugpyDir, 'adapter'), 'debugpy');
  }
}
