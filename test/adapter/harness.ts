// Drives the bundled adapter (dist/debugAdapter.js) with DebugClient against real Python programs.
// Events are queued as they arrive, so a test never misses one that came before it asked, and
// every wait has a deadline.
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SUPPORTED_PYTHONS } from '../../extension/adapter/protocol';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const ADAPTER = path.join(ROOT, 'dist', 'debugAdapter.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const fixture = (name: string) => path.join(FIXTURES, name);

/** The line numbers of a fixture's "# @name" markers: markers(file)('name'). */
export function markers(file: string): (name: string) => number {
  const lines = readFileSync(file, 'utf8').split('\n');
  return (name: string) => {
    const index = lines.findIndex((l) => new RegExp(`#.*@${name}(?![\\w-])`).test(l));
    if (index < 0) throw new Error(`no marker @${name} in ${file}`);
    return index + 1;
  };
}

// Both sides check every message against runtime/loopscope/protocol.json during tests.
process.env.LOOPSCOPE_CHECK_PROTOCOL = '1';

/** The interpreter for tests that run once: LOOPSCOPE_TEST_PYTHON, else python3. */
export const PYTHON = process.env.LOOPSCOPE_TEST_PYTHON || 'python3';

export interface FoundPython { version: string; path: string }

/** A stopped event as Loopscope sends it: always for a thread, with its own facts beside DAP's. */
export type Stop = DebugProtocol.StoppedEvent & {
  body: DebugProtocol.StoppedEvent['body'] & { threadId: number; loopscope: Record<string, any> };
};

/** Every supported CPython (protocol.json's range) that pyenv keeps on this machine. */
export function supportedPythons(): FoundPython[] {
  const [oldest, newest] = [SUPPORTED_PYTHONS.oldest, SUPPORTED_PYTHONS.newest].map((v) => Number(v.split('.')[1]));
  const root = process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv');
  const versions = path.join(root, 'versions');
  const found: FoundPython[] = [];
  if (existsSync(versions)) {
    const byVersion = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
    for (const name of readdirSync(versions).sort(byVersion)) {
      const match = /^3\.(\d+)\.\d+$/.exec(name);
      const executable = path.join(versions, name, 'bin', 'python3');
      if (match && Number(match[1]) >= oldest && Number(match[1]) <= newest && existsSync(executable)) {
        found.push({ version: name, path: executable });
      }
    }
  }
  if (found.length === 0) {
    const version = execFileSync(PYTHON, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']).toString().trim();
    found.push({ version, path: PYTHON });
  }
  return found;
}

export class Session {
  readonly client: DebugClient;
  /** What the client says it can do in its initialize request (runInTerminal, startDebugging...). */
  capabilities: Partial<DebugProtocol.InitializeRequestArguments> = {};
  private readonly reverseHandlers = new Map<string, (args: any) => unknown>();
  private readonly queues = new Map<string, DebugProtocol.Event[]>();
  private readonly waiters = new Map<string, ((e: DebugProtocol.Event) => void)[]>();
  readonly output: { category: string; text: string }[] = [];
  /** Every event in arrival order, as "kind:detail", to check ordering across kinds. */
  readonly timeline: string[] = [];

  /** adapterEnv: extra environment for the adapter process (the soak test caps its heap).
   * recordOutput false: output events are not kept (a test that reads hundreds of MB counts them itself). */
  constructor(adapterEnv: Record<string, string> = {}, { recordOutput = true } = {}) {
    this.client = new DebugClient('node', ADAPTER, 'loopscope', { env: { ...process.env, ...adapterEnv } }, true);
    for (const kind of ['stopped', 'output', 'exited', 'terminated', 'thread', 'initialized', 'continued', 'process', 'loopscope/deadlock']) {
      if (kind === 'output' && !recordOutput) continue;
      this.client.on(kind, (event: DebugProtocol.Event) => this.record(kind, event));
    }
    // DebugClient drops requests from the adapter (runInTerminal, startDebugging): answer them here.
    const protocol = this.client as unknown as { dispatch(body: string): void; outputStream: NodeJS.WritableStream };
    const dispatch = protocol.dispatch.bind(protocol);
    protocol.dispatch = (body: string) => {
      const message = JSON.parse(body);
      if (message.type === 'request') void this.answer(message, protocol.outputStream);
      else dispatch(body);
    };
  }

  /** Answer the adapter's requests of this command with handler(arguments)'s value as the body; one
   * that throws fails the request with its message. Unanswered commands fail as unsupported. */
  onReverseRequest(command: string, handler: (args: any) => unknown): void {
    this.reverseHandlers.set(command, handler);
  }

  private async answer(request: DebugProtocol.Request, stream: NodeJS.WritableStream): Promise<void> {
    const response: DebugProtocol.Response = { type: 'response', seq: 0, request_seq: request.seq, command: request.command, success: true };
    const handler = this.reverseHandlers.get(request.command);
    try {
      if (!handler) throw new Error(`this test client does not answer ${request.command}`);
      response.body = await handler(request.arguments);
    } catch (error) {
      response.success = false;
      response.message = (error as Error).message;
    }
    const json = JSON.stringify(response);
    stream.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  private record(kind: string, event: DebugProtocol.Event): void {
    if (kind === 'output') {
      this.output.push({ category: event.body.category, text: event.body.output });
      this.timeline.push(`output:${event.body.category}:${event.body.output}`);
    } else {
      this.timeline.push(`${kind}:${event.body?.reason ?? ''}`);
    }
    const waiting = this.waiters.get(kind);
    if (waiting?.length) waiting.shift()!(event);
    else this.queues.set(kind, [...(this.queues.get(kind) ?? []), event]);
  }

  /** The next event of this kind not yet taken, waiting up to `ms`. */
  next(kind: string, ms = 20_000): Promise<DebugProtocol.Event> {
    const queued = this.queues.get(kind);
    if (queued?.length) return Promise.resolve(queued.shift()!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(kind)!;
        list.splice(list.indexOf(onEvent), 1);
        reject(new Error(`no '${kind}' event within ${ms} ms; output so far:\n${this.text()}`));
      }, ms);
      const onEvent = (event: DebugProtocol.Event) => { clearTimeout(timer); resolve(event); };
      this.waiters.set(kind, [...(this.waiters.get(kind) ?? []), onEvent]);
    });
  }

  /** The next stop, or undefined when the program exits first; no waiter is left behind either way. */
  nextStopOrExit(ms = 20_000): Promise<Stop | undefined> {
    const stopped = this.queues.get('stopped');
    if (stopped?.length) return Promise.resolve(stopped.shift() as Stop);
    const exited = this.queues.get('exited');
    if (exited?.length) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const forget = () => {
        for (const [kind, waiter] of [['stopped', onStop], ['exited', onExit]] as const) {
          const list = this.waiters.get(kind) ?? [];
          if (list.includes(waiter)) list.splice(list.indexOf(waiter), 1);
        }
      };
      const timer = setTimeout(() => {
        forget();
        reject(new Error(`no stop or exit within ${ms} ms; output so far:\n${this.text()}`));
      }, ms);
      const onStop = (event: DebugProtocol.Event) => { clearTimeout(timer); forget(); resolve(event as Stop); };
      const onExit = (event: DebugProtocol.Event) => {
        clearTimeout(timer);
        forget();
        this.queues.set('exited', [event, ...(this.queues.get('exited') ?? [])]); // still there for next('exited')
        resolve(undefined);
      };
      this.waiters.set('stopped', [...(this.waiters.get('stopped') ?? []), onStop]);
      this.waiters.set('exited', [...(this.waiters.get('exited') ?? []), onExit]);
    });
  }

  async nextStop(ms = 20_000): Promise<Stop> {
    const event = (await this.next('stopped', ms)) as Stop;
    if (typeof event.body.threadId !== 'number') throw new Error(`stopped event without a threadId: ${JSON.stringify(event.body)}`);
    return event;
  }

  /** Launch with these arguments and run the configuration sequence; resolves with the launch response. */
  async launch(args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<DebugProtocol.LaunchResponse> {
    await this.client.initializeRequest({ adapterID: 'loopscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', ...this.capabilities });
    const launched = args.request === 'attach'
      ? this.client.attachRequest(args as DebugProtocol.AttachRequestArguments)
      : this.client.launchRequest({ python: PYTHON, ...args } as DebugProtocol.LaunchRequestArguments);
    const configured = this.next('initialized').then(async () => {
      if (configure) await configure();
      await this.client.configurationDoneRequest();
    });
    const [response] = await Promise.all([launched, configured]);
    return response;
  }

  /** Attach with these arguments (attachOptions.json) and run the configuration sequence; resolves
   * with the attach response. */
  async attach(args: Record<string, unknown>, configure?: () => Promise<unknown>): Promise<DebugProtocol.AttachResponse> {
    await this.client.initializeRequest({ adapterID: 'loopscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const attached = this.client.attachRequest(args as DebugProtocol.AttachRequestArguments);
    // A failed attach sends no initialized event: its error is the answer.
    const initialized = this.next('initialized', 60_000);
    initialized.catch(() => undefined);
    const first = await Promise.race([initialized.then(() => 'initialized'), attached.then(() => 'answered', () => 'answered')]);
    if (first === 'initialized') {
      if (configure) await configure();
      await this.client.configurationDoneRequest();
    }
    return attached;
  }

  /** Wait until the output so far matches `pattern`; resolves with the match. */
  async outputMatching(pattern: RegExp, ms = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.text());
      if (match) return match;
      await this.next('output', Math.max(1, deadline - Date.now()));
    }
  }

  /** Text written by the program so far, optionally of one category. */
  text(category?: string): string {
    return this.output.filter((o) => !category || o.category === category).map((o) => o.text).join('');
  }

  /** Output text since a mark returned by mark(). */
  mark(): number {
    return this.output.length;
  }

  since(mark: number, category = 'stdout'): string {
    return this.output.slice(mark).filter((o) => o.category === category).map((o) => o.text).join('');
  }

  async topFrame(threadId: number): Promise<DebugProtocol.StackFrame> {
    const { body } = await this.client.stackTraceRequest({ threadId });
    return body.stackFrames[0];
  }

  async stop(): Promise<void> {
    try {
      await this.client.disconnectRequest({ terminateDebuggee: true });
    } catch { /* already gone */ }
    await this.client.stop();
  }
}

/** Run body with a started session, and end the session (and its program) whatever happens. */
export async function withSession(body: (session: Session) => Promise<void>): Promise<void> {
  const session = new Session();
  await session.start();
  try {
    await body(session);
  } finally {
    await session.stop();
  }
}

/** The promise's value, or a failure saying what did not happen within ms (a request that must not hang). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Poll a condition until it holds or the deadline passes (for things that have no event, like a pid vanishing). */
export async function eventually(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Ask again until the answer is yes or the deadline passes (for a state that has no event, like a thread that
 * holds at its next line): each try is a round trip to the program, never a sleep. */
export async function until(question: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await question())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has ended; it only waits for its parent (or init) to collect its exit status.
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc here: kill(pid, 0) is all there is
  }
}
