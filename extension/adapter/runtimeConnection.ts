// The link to the Python runtime: starts `python .../loopscope/__main__.py --connect ...` (spawned, or
// in a terminal the client opens), accepts its one authenticated connection on loopback (or adopts a
// child process's, runtimeListener.ts and childProcesses.ts; or, attaching, takes the connection of a
// runtime that processAttach.ts got into a running program or that listenConnection.ts reached), turns
// frames into typed requests and events, and ends the program or lets it go. Knows nothing of DAP; the
// debug session and the `loopscope trace` CLI both drive it.
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { encodeFrame, FrameDecoder, FrameError } from './framing';
import { AttachedProgram, KILL_GRACE_MS, ProgramExit, ProgramProcess, RemoteProgram, SpawnedProgram } from './programProcess';
import { Hello, RuntimeEventName, RuntimeEvents, RuntimeRequestName, RuntimeRequests } from './protocol';
import { proveHello, ProvenRuntime, RuntimeListener, RuntimeRefused } from './runtimeListener';
import { checkEvent, checkingProtocol, checkRequest, checkResponse } from './schemaCheck';

export type { ProgramExit } from './programProcess';

const CONNECT_DEADLINE_MS = 30_000;
/** Output the adapter lets wait for its client before it stops reading the program's (back-pressure). */
const OUTPUT_BACKLOG_BYTES = 1 << 20;
/** How long the runtime gets to answer a terminate or detach request (VS Code gives up on a disconnect after 2 s). */
const ANSWER_DEADLINE_MS = 1_800;
/** After a detach, how long the adapter keeps reading what the program wrote to its pipes before. */
const OUTPUT_DRAIN_MS = 1_000;

export interface RuntimeLaunchOptions {
  python: string;
  program?: string;
  module?: string;
  args: string[];
  cwd: string;
  env: Record<string, string | null>;
  /** Where runtime/loopscope lives; found next to the bundle when omitted. */
  runtimeDir?: string;
}

/** A launch that failed before the program ran; message says what to do. */
export class LaunchError extends Error {}

/** Starts a command in a terminal for the adapter (the DAP client's runInTerminal); resolves once started. */
export type TerminalStarter = (command: { args: string[]; cwd: string; env: Record<string, string | null>; title: string }) => Promise<void>;

export interface RuntimeConnectionEvents {
  output: [category: 'stdout' | 'stderr', text: string];
  /** Something Loopscope itself wants the user to know (refused connections, protocol faults). */
  log: [message: string];
}

type Pending = { command: string; resolve: (body: unknown) => void; reject: (error: Error) => void };

/** What a debug session needs of its runtime: a RuntimeConnection, or readOnlyRuntime.ts's stand-in
 * for a program that can only be read from outside. */
export interface RuntimeLink extends EventEmitter<RuntimeConnectionEvents> {
  readonly hello: Hello;
  readonly pid: number | undefined;
  readonly hasExited: boolean;
  /** Whether the program's stdout and stderr come to the adapter's pipes. */
  readonly outputComesHere: boolean;
  request<K extends RuntimeRequestName>(command: K, args: RuntimeRequests[K]['arguments']): Promise<RuntimeRequests[K]['body']>;
  onEvent<K extends RuntimeEventName>(event: K, listener: (body: RuntimeEvents[K]) => void): this;
  whenExited(): Promise<ProgramExit>;
  terminate(timeoutMs: number): Promise<ProgramExit>;
  kill(): Promise<ProgramExit>;
  detach(outputFile: string | undefined): Promise<RuntimeRequests['detach']['body']>;
  throttleOutputBy(sink: OutputSink): void;
}

export function findRuntimeDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'runtime');
    if (existsSync(path.join(candidate, 'loopscope', '__main__.py'))) return candidate;
    if (path.dirname(dir) === dir) throw new LaunchError(`Loopscope's Python runtime was not found above ${start}; reinstall the extension.`);
  }
}

export class RuntimeConnection extends EventEmitter<RuntimeConnectionEvents> implements RuntimeLink {
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventHandlers = new EventEmitter();
  private exitInfo: ProgramExit | undefined;
  private readonly exited: Promise<ProgramExit>;
  /** Events from the runtime that came while the program's output was held back (see throttleOutputBy). */
  private readonly heldEvents: Record<string, unknown>[] = [];
  private replaying = false;

  private constructor(
    private readonly program: ProgramProcess,
    private socket: net.Socket | undefined,
    readonly hello: Hello,
    private readonly flow: OutputFlow,
    /** The program's stdout and stderr, where they come to the adapter's pipes. */
    private readonly pipes: ChildProcess | undefined,
  ) {
    super();
    this.exited = program.exited;
  }

  /** A runtime that joined a running program (attach, listen mode), on its proven connection.
   * "Exited" here means the connection closed: the program itself may run on. */
  static attached(socket: net.Socket, hello: Hello, leftover: Buffer): RuntimeConnection {
    const connection = new RuntimeConnection(new AttachedProgram(hello.pid, socket), socket, hello, new OutputFlow(), undefined);
    connection.readFrom(socket, leftover);
    return connection;
  }

  /** Start the program under the runtime and wait until the runtime has connected and proved its token. */
  static async launch(options: RuntimeLaunchOptions): Promise<RuntimeConnection> {
    const runtimeDir = options.runtimeDir ?? findRuntimeDir();
    // Checked before anything listens: spawn() would say a missing cwd is a missing interpreter.
    const cwdProblem = checkWorkingDirectory(options.cwd);
    if (cwdProblem) throw new LaunchError(cwdProblem);
    const listener = await RuntimeListener.open();
    const argv = ['-u', ...runtimeArguments(options, runtimeDir, listener.port)];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(options.env)) {
      if (value === null) delete env[name];
      else env[name] = value;
    }
    env.LOOPSCOPE_TOKEN = listener.token;

    let child: ChildProcess;
    try {
      child = spawn(options.python, argv, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // A NUL byte in an argument, a path too long: spawn() throws before any process exists.
      listener.close();
      throw new LaunchError(`Could not start "${options.python}": ${(error as Error).message}`);
    }
    const flow = new OutputFlow();
    const early = new EarlyOutput(child);
    const program = new SpawnedProgram(child, () => flow.held);
    try {
      const failed = new Promise<never>((_resolve, reject) => {
        child.once('error', (error: NodeJS.ErrnoException) => reject(new LaunchError(error.code === 'ENOENT'
          ? `Python interpreter "${options.python}" was not found. Set "python" in launch.json to a Python 3.8+ interpreter.`
          : `Could not start "${options.python}": ${error.message}`)));
        program.exited.then((exit) => reject(new LaunchError(describeEarlyExit(options, exit, early.tail()))));
      });
      const accepted = await listener.accept(CONNECT_DEADLINE_MS, failed, () => new LaunchError(
        `${options.python} did not start the Loopscope runtime within ${CONNECT_DEADLINE_MS / 1000} s. ` +
        `Is it a Python 3.8+ interpreter? Set "python" in launch.json.${early.tail()}`)).catch(asLaunchError);
      const connection = new RuntimeConnection(program, accepted.socket, accepted.hello, flow, child);
      early.handOver(connection);
      listener.tellRefusalsTo(connection);
      connection.readFrom(accepted.socket, accepted.leftover);
      return connection;
    } catch (error) {
      listener.close();
      program.kill('SIGKILL');
      throw error;
    }
  }

  /**
   * Start the program in a terminal (console integratedTerminal or externalTerminal): the client runs
   * the command, so the program's stdin, stdout and stderr are the terminal's. The token goes in a file
   * only this user can read, named on the command line (a terminal may show the environment it is
   * given as part of the command), which the runtime deletes as it reads it.
   */
  static async launchInTerminal(options: RuntimeLaunchOptions, startInTerminal: TerminalStarter, title: string): Promise<RuntimeConnection> {
    const runtimeDir = options.runtimeDir ?? findRuntimeDir();
    const cwdProblem = checkWorkingDirectory(options.cwd);
    if (cwdProblem) throw new LaunchError(cwdProblem);
    const listener = await RuntimeListener.open();
    const tokenDir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-'));
    const tokenFile = path.join(tokenDir, 'token');
    try {
      writeFileSync(tokenFile, listener.token, { mode: 0o600, flag: 'wx' });
      const args = [options.python, ...runtimeArguments(options, runtimeDir, listener.port, tokenFile)];
      const env: Record<string, string | null> = { ...options.env };
      if (checkingProtocol) env.LOOPSCOPE_CHECK_PROTOCOL = '1';
      let startFailed!: (error: Error) => void;
      const failed = new Promise<never>((_resolve, reject) => { startFailed = reject; });
      const accepted = listener.accept(CONNECT_DEADLINE_MS, failed, () => new LaunchError(
        `The program started in the terminal did not connect within ${CONNECT_DEADLINE_MS / 1000} s. The terminal shows ` +
        `what went wrong; check "python" in launch.json (a Python 3.8+ interpreter), or use "console": "internalConsole".`));
      startInTerminal({ args, cwd: options.cwd, env, title }).catch((error) =>
        startFailed(new LaunchError(`The terminal could not start the program: ${(error as Error).message}`)));
      const runtime = await accepted.catch(asLaunchError);
      const program = new RemoteProgram(runtime.hello.pid, runtime.socket);
      const connection = new RuntimeConnection(program, runtime.socket, runtime.hello, new OutputFlow(), undefined);
      listener.tellRefusalsTo(connection);
      connection.readFrom(runtime.socket, runtime.leftover);
      return connection;
    } finally {
      listener.close();
      rmSync(tokenDir, { recursive: true, force: true });
    }
  }

  /** A child session: take over the connection of a child process that the parent session's adapter
   * holds for us (childProcesses.ts), proving the one-time token it put in our configuration. */
  static async adopt(port: number, token: string): Promise<RuntimeConnection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    try {
      await withDeadline(once(socket, 'connect'), CONNECT_DEADLINE_MS, () => new LaunchError('The parent session did not answer.'));
    } catch (error) {
      socket.destroy();
      throw new LaunchError(`Could not reach the parent session's adapter for this child process (127.0.0.1:${port}): ${(error as Error).message} ` +
        'A child session is started by its parent session; it cannot be started on its own.');
    }
    socket.write(encodeFrame({ type: 'adopt', token }));
    const runtime = await new Promise<ProvenRuntime>((resolve, reject) => {
      proveHello(socket, (first) => (first.type === 'hello' ? undefined : 'the parent session sent no hello'),
        (accepted) => resolve({ ...accepted, hello: accepted.hello as unknown as Hello }),
        (why) => { socket.destroy(); reject(new LaunchError(`The parent session refused this child session (${why}); it may have ended, or given the child to another session.`)); });
      socket.once('close', () => reject(new LaunchError('The parent session closed the connection: the child process may have ended, or its parent session.')));
    });
    const program = new RemoteProgram(runtime.hello.pid, socket);
    const connection = new RuntimeConnection(program, socket, runtime.hello, new OutputFlow(), undefined);
    connection.readFrom(socket, runtime.leftover);
    return connection;
  }

  get pid(): number | undefined {
    return this.program.pid;
  }

  /** Whether the program's stdout and stderr come to the adapter's pipes (else: a terminal's, or its parent's). */
  get outputComesHere(): boolean {
    return this.pipes !== undefined;
  }

  /** Send a request to the runtime; resolves with the response body or rejects with its message. */
  request<K extends RuntimeRequestName>(command: K, args: RuntimeRequests[K]['arguments']): Promise<RuntimeRequests[K]['body']> {
    if (checkingProtocol) checkRequest(command, args);
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new Error('the program has ended'));
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { command, resolve: resolve as (b: unknown) => void, reject });
      socket.write(encodeFrame({ type: 'request', seq, command, arguments: args }));
    });
  }

  onEvent<K extends RuntimeEventName>(event: K, listener: (body: RuntimeEvents[K]) => void): this {
    this.eventHandlers.on(event, listener);
    return this;
  }

  /** Resolves when the program has exited and its output has been delivered. */
  whenExited(): Promise<ProgramExit> {
    return this.exited;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /**
   * End the program as Ctrl+C would, then hard: the runtime releases it and raises KeyboardInterrupt in
   * its main thread, so that finally blocks and asyncio.run's cancellation of tasks run; if it has not
   * exited within timeoutMs (or the runtime does not answer), kill() ends it. Resolves once it is gone.
   */
  async terminate(timeoutMs: number): Promise<ProgramExit> {
    if (this.exitInfo) return this.exitInfo;
    // A program Loopscope joined is never interrupted by it: only the connection goes.
    if (this.hello.attached) return this.kill();
    if (timeoutMs > 0 && this.socket && !this.socket.destroyed) {
      const interrupted = await withDeadline(this.request('terminate', {}), ANSWER_DEADLINE_MS, () => new Error('no answer'))
        .then(() => true, () => false);
      if (interrupted) {
        const exit = await withDeadline(this.exited, timeoutMs, () => new Error('still running')).catch(() => undefined);
        if (exit) return exit;
      }
    }
    return this.kill();
  }

  /** End the program and every process it started at once: SIGTERM, SIGKILL 2 s later (an attached
   * program: its connection only). */
  async kill(): Promise<ProgramExit> {
    if (this.exitInfo) return this.exitInfo;
    this.program.kill('SIGTERM');
    const timer = setTimeout(() => this.program.kill('SIGKILL'), KILL_GRACE_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.program.kill('SIGKILL'); // grandchildren that ignored SIGTERM
    }
  }

  /**
   * Leave the program running without Loopscope: the runtime takes its hooks out and closes the
   * connection, and nothing ends the program when the adapter goes (a launched one's process group
   * is not ended either). Where its output comes to the adapter's pipes (which close with the
   * adapter), it is sent to outputFile from now on; what it wrote before is read to the end first.
   * Resolves with the runtime's answer: notes on what could not be put back (an attached program),
   * the problem with outputFile (a launched one).
   */
  async detach(outputFile: string | undefined): Promise<RuntimeRequests['detach']['body']> {
    const redirect = this.pipes !== undefined && outputFile !== undefined;
    const body = await withDeadline(this.request('detach', redirect ? { outputFile } : {}), ANSWER_DEADLINE_MS,
      () => new Error(`the runtime did not answer the detach request within ${ANSWER_DEADLINE_MS / 1000} s`));
    this.program.release();
    const socket = this.socket;
    socket?.end();
    const closing = [this.pipes?.stdout, this.pipes?.stderr, socket].filter((s) => s && !s.closed);
    await withDeadline(Promise.all(closing.map((s) => once(s!, 'close'))), OUTPUT_DRAIN_MS, () => new Error('')).catch(() => undefined);
    socket?.destroy();
    return body;
  }

  /**
   * Back-pressure: the program's output goes to `sink` (the DAP client, a terminal); while more than
   * OUTPUT_BACKLOG_BYTES of it wait there, the adapter stops reading the program's stdout and stderr,
   * so that the program waits in write() rather than the adapter buffering without bound, and tells
   * the runtime (outputHeld), whose stops then wait for the output before them. Nothing is dropped.
   */
  throttleOutputBy(sink: OutputSink): void {
    this.flow.sink = sink;
  }

  /** The program's output, in order (EarlyOutput hands it over). */
  deliverOutput(category: 'stdout' | 'stderr', text: string): void {
    this.emit('output', category, text);
    const sink = this.flow.sink;
    if (sink && !this.flow.held && sink.writableLength > OUTPUT_BACKLOG_BYTES && sink.writableNeedDrain) this.holdOutput(sink);
  }

  private holdOutput(sink: OutputSink): void {
    this.flow.held = true;
    this.pipes?.stdout?.pause();
    this.pipes?.stderr?.pause();
    this.tellOutputHeld(true);
    sink.once('drain', () => {
      this.flow.held = false;
      // The output read meanwhile is passed on first (resume() delivers it on the next tick), then
      // the events that came while it was held, then the runtime hears that the output flows again.
      this.pipes?.stdout?.resume();
      this.pipes?.stderr?.resume();
      setImmediate(() => {
        if (this.flow.held) return; // held again already: the next drain carries on from here
        this.replaying = true;
        try {
          for (const message of this.heldEvents.splice(0)) this.dispatch(message);
        } finally {
          this.replaying = false;
        }
        this.tellOutputHeld(false);
      });
    });
  }

  private tellOutputHeld(held: boolean): void {
    if (this.socket && !this.socket.destroyed) this.request('outputHeld', { held }).catch(() => undefined);
  }

  private readFrom(socket: net.Socket, leftover: Buffer): void {
    const decoder = new FrameDecoder();
    let broken = false;
    const onData = (chunk: Buffer) => {
      if (broken) return;
      for (const item of decoder.feedTolerant(chunk)) {
        if (!(item instanceof FrameError)) {
          this.dispatch(item);
        } else if (item.payload) {
          // One frame that is not JSON: the stream is still in step; drop the frame, answer its request.
          const seq = /^\{"type":"response","request_seq":(\d+)/.exec(item.payload.subarray(0, 64).toString('latin1'))?.[1];
          const pending = seq !== undefined ? this.pending.get(Number(seq)) : undefined;
          this.emit('log', `The runtime sent a frame that is not JSON (${item.message}); it was dropped.`);
          if (pending) {
            this.pending.delete(Number(seq));
            pending.reject(new Error(`the runtime's answer to ${pending.command} could not be read (${item.message})`));
          }
        } else {
          // The framing itself is broken: nothing after this can be trusted. End the session as
          // disconnect would, rather than leave the runtime to kill the program when the channel drops.
          broken = true;
          this.emit('log', `The runtime sent a malformed frame (${item.message}); the control channel cannot be read any more, so the program is ended.`);
          void this.kill();
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.on('close', () => {
      for (const pending of this.pending.values()) pending.reject(new Error('the program has ended'));
      this.pending.clear();
    });
    if (leftover.length) onData(leftover);
    this.exited.then((exit) => { this.exitInfo = exit; });
  }

  private dispatch(message: Record<string, unknown>): void {
    // An event must not overtake the output before it: while the output is held, events wait too.
    if (message.type === 'event' && (this.flow.held || this.heldEvents.length) && !this.replaying) {
      this.heldEvents.push(message);
      return;
    }
    try {
      if (message.type === 'response') {
        const pending = this.pending.get(message.request_seq as number);
        if (!pending) return;
        this.pending.delete(message.request_seq as number);
        if (message.success) {
          try {
            if (checkingProtocol) checkResponse(pending.command, message.body);
          } catch (error) {
            // Answered all the same: a request never waits for ever.
            pending.reject(new Error(`the runtime's answer to ${pending.command} broke the protocol: ${(error as Error).message}`));
            throw error;
          }
          pending.resolve(message.body ?? {});
        } else {
          pending.reject(new Error(String(message.message ?? `${pending.command} failed`)));
        }
      } else if (message.type === 'event') {
        if (checkingProtocol) checkEvent(message.event as string, message.body);
        if (message.event === 'output') {
          const output = message.body as RuntimeEvents['output'];
          this.emit('output', output.category, output.output);
        } else if (message.event === 'exiting') {
          this.program.announceExit((message.body as RuntimeEvents['exiting']).code);
        }
        this.eventHandlers.emit(message.event as string, message.body);
      }
    } catch (error) {
      this.emit('log', `Protocol fault: ${(error as Error).message}`);
    }
  }
}

/** Where the program's output goes, as much of a Writable as back-pressure needs. */
export interface OutputSink {
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Whether the adapter holds the program's output back, shared by the connection and the program's exit watch. */
class OutputFlow {
  held = false;
  sink: OutputSink | undefined;
}

/** Why cwd cannot be a working directory, in launch.json's terms; undefined when it can. */
function checkWorkingDirectory(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return `The working directory "${cwd}" is not a directory. Check "cwd" in launch.json.`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const shown = cwd.length > 200 ? `${cwd.slice(0, 200)}…` : cwd;
    if (code === 'ENOENT') return `The working directory "${shown}" does not exist. Check "cwd" in launch.json.`;
    if (code === 'ENAMETOOLONG') return `The working directory is too long a path (${cwd.length} characters). Check "cwd" in launch.json.`;
    if (code === 'ENOTDIR') return `The working directory "${shown}" is not a directory. Check "cwd" in launch.json.`;
    return `The working directory "${shown}" cannot be used: ${(error as Error).message}. Check "cwd" in launch.json.`;
  }
  return undefined;
}

/** The command line after the interpreter: the runtime, its connection, the program and its arguments. */
function runtimeArguments(options: RuntimeLaunchOptions, runtimeDir: string, port: number, tokenFile?: string): string[] {
  const target = options.module !== undefined ? ['-m', options.module] : [options.program!];
  return [path.join(runtimeDir, 'loopscope', '__main__.py'), '--connect', `127.0.0.1:${port}`,
    ...(tokenFile ? ['--token-file', tokenFile] : []), ...target, ...options.args];
}

/** A runtime that refused (another protocol version, a refusal in its hello) fails the launch. */
function asLaunchError(error: unknown): never {
  throw error instanceof RuntimeRefused ? new LaunchError(error.message) : error;
}

/** promise, or a rejection with failure() after ms. */
function withDeadline<T>(promise: Promise<T>, ms: number, failure: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(failure()), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function describeEarlyExit(options: RuntimeLaunchOptions, exit: ProgramExit, said: string): string {
  if (exit.signal) return `The program was killed by ${exit.signal} before the runtime connected.${said}`;
  if (exit.code === 3 && said.includes('Loopscope needs Python 3.8')) return said.trim();
  if (said.includes('loopscope: ')) {
    return said.trim().split('\n').filter((l) => l.startsWith('loopscope: ')).map((l) => l.slice('loopscope: '.length).replace(/\.?$/, '.')).join('\n')
      + (options.module !== undefined ? ' Check "module" in launch.json.' : ' Check "program" in launch.json.');
  }
  return `"${options.python}" exited with code ${exit.code} without starting the Loopscope runtime. ` +
    `Is it a Python 3.8+ interpreter? Set "python" in launch.json.${said}`;
}

/** Output the child writes before the connection exists: kept for error messages, then handed over in order. */
class EarlyOutput {
  private readonly chunks: ['stdout' | 'stderr', string][] = [];
  private connection: RuntimeConnection | undefined;

  constructor(child: ChildProcess) {
    for (const category of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      const stream = child[category]!;
      stream.on('data', (chunk: Buffer) => this.push(category, decoder.write(chunk)));
      stream.on('end', () => this.push(category, decoder.end()));
    }
  }

  private push(category: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    if (this.connection && this.chunks.length === 0) this.connection.deliverOutput(category, text);
    else this.chunks.push([category, text]);
  }

  tail(): string {
    const text = this.chunks.map(([, t]) => t).join('').trim();
    return text ? `\n${text.slice(-2000)}` : '';
  }

  handOver(connection: RuntimeConnection): void {
    // Replayed on the next tick, once the owner has subscribed; until then new output queues behind it.
    setImmediate(() => {
      this.connection = connection;
      for (const [category, text] of this.chunks.splice(0)) connection.deliverOutput(category, text);
    });
  }
}

/** Launch with the configured interpreter, or with python3 and then python when none is set. */
export async function launchWithPythonFallback(options: Omit<RuntimeLaunchOptions, 'python'> & { python?: string }): Promise<RuntimeConnection> {
  if (options.python) return RuntimeConnection.launch({ ...options, python: options.python });
  try {
    return await RuntimeConnection.launch({ ...options, python: 'python3' });
  } catch (error) {
    if (error instanceof LaunchError && /"python3" was not found/.test(error.message)) {
      return RuntimeConnection.launch({ ...options, python: 'python' });
    }
    throw error;
  }
}
