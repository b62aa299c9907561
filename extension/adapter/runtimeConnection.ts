// The link to the Python runtime: spawns `python -u .../loopscope/__main__.py --connect ...` (or,
// attaching, waits for a runtime that processAttach.ts got into a running program, or connects to a
// listening one: listenConnection.ts), accepts its one authenticated connection on loopback, and
// turns frames into typed requests and events. Knows nothing of DAP; the debug session and the
// `loopscope trace` CLI both drive it.
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { encodeFrame, FrameDecoder, FrameError } from './framing';
import { Hello, RuntimeEventName, RuntimeEvents, RuntimeRequestName, RuntimeRequests } from './protocol';
import { RuntimeListener } from './runtimeListener';
import { checkEvent, checkingProtocol, checkRequest, checkResponse } from './schemaCheck';

const CONNECT_DEADLINE_MS = 30_000;
/** Output the adapter lets wait for its client before it stops reading the program's (back-pressure). */
const OUTPUT_BACKLOG_BYTES = 1 << 20;
const TERMINATE_GRACE_MS = 2_000;
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

export interface ProgramExit {
  /** The exit code, or 128 + signal number when a signal ended the program. */
  code: number;
  signal: NodeJS.Signals | null;
  /** An attached program: its connection closed; whether it exited, and how, is not known here. */
  connectionOnly?: boolean;
}

export interface RuntimeConnectionEvents {
  output: [category: 'stdout' | 'stderr', text: string];
  exit: [exit: ProgramExit];
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
  request<K extends RuntimeRequestName>(command: K, args: RuntimeRequests[K]['arguments']): Promise<RuntimeRequests[K]['body']>;
  onEvent<K extends RuntimeEventName>(event: K, listener: (body: RuntimeEvents[K]) => void): this;
  whenExited(): Promise<ProgramExit>;
  terminate(): Promise<ProgramExit>;
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
    /** The program Loopscope started; undefined for a program it attached to. */
    private readonly child: ChildProcess | undefined,
    private socket: net.Socket | undefined,
    readonly hello: Hello,
    exited: Promise<ProgramExit>,
    private readonly flow: OutputFlow,
  ) {
    super();
    this.exited = exited;
  }

  /** A runtime that joined a running program (attach, listen mode), on its proven connection.
   * "Exited" here means the connection closed: the program itself may run on. */
  static attached(socket: net.Socket, hello: Hello, leftover: Buffer): RuntimeConnection {
    const closed = new Promise<ProgramExit>((resolve) => socket.once('close', () => resolve({ code: 0, signal: null, connectionOnly: true })));
    const connection = new RuntimeConnection(undefined, socket, hello, closed, new OutputFlow());
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
    const target = options.module !== undefined ? ['-m', options.module] : [options.program!];
    const argv = ['-u', path.join(runtimeDir, 'loopscope', '__main__.py'), '--connect', `127.0.0.1:${listener.port}`, ...target, ...options.args];
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
    const exited = watchExit(child, flow);
    // No process outlives the session: what the program left running in its process group (children
    // it did not wait for, a child forked from the Debug Console) ends with it, however it ended.
    exited.then(() => endGroup(child));
    try {
      const failed = new Promise<never>((_resolve, reject) => {
        child.once('error', (error: NodeJS.ErrnoException) => {
          reject(new LaunchError(error.code === 'ENOENT'
            ? `Python interpreter "${options.python}" was not found. Set "python" in launch.json to a Python 3.8+ interpreter.`
            : `Could not start "${options.python}": ${error.message}`));
        });
        exited.then((exit) => reject(new LaunchError(describeEarlyExit(options, exit, early.tail()))));
      });
      const { socket, hello, leftover } = await listener.accept(CONNECT_DEADLINE_MS, failed, () => new LaunchError(
        `${options.python} did not start the Loopscope runtime within ${CONNECT_DEADLINE_MS / 1000} s. ` +
        `Is it a Python 3.8+ interpreter? Set "python" in launch.json.${early.tail()}`));
      const connection = new RuntimeConnection(child, socket, hello, exited, flow);
      early.handOver(connection);
      listener.tellRefusalsTo(connection);
      connection.readFrom(socket, leftover);
      return connection;
    } catch (error) {
      listener.close();
      killGroup(child, 'SIGKILL');
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.child ? this.child.pid : this.hello.pid;
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

  /** End the program and every process it started; resolves once it is gone. */
  async terminate(): Promise<ProgramExit> {
    if (this.exitInfo) return this.exitInfo;
    const child = this.child;
    if (!child) {
      // Not Loopscope's to end (session.ts detaches instead): only the connection goes.
      this.socket?.destroy();
      return this.exited;
    }
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), TERMINATE_GRACE_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      killGroup(child, 'SIGKILL'); // grandchildren that ignored SIGTERM
    }
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
    this.child?.stdout?.pause();
    this.child?.stderr?.pause();
    this.tellOutputHeld(true);
    sink.once('drain', () => {
      this.flow.held = false;
      // The output read meanwhile is passed on first (resume() delivers it on the next tick), then
      // the events that came while it was held, then the runtime hears that the output flows again.
      this.child?.stdout?.resume();
      this.child?.stderr?.resume();
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
          void this.terminate();
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
        this.eventHandlers.emit(message.event as string, message.body);
      }
    } catch (error) {
      this.emit('log', `Protocol fault: ${(error as Error).message}`);
    }
  }
}

/** SIGTERM to the process group, then SIGKILL to whatever ignored it. */
function endGroup(child: ChildProcess): void {
  killGroup(child, 'SIGTERM');
  setTimeout(() => killGroup(child, 'SIGKILL'), TERMINATE_GRACE_MS);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

/** Where the program's output goes, as much of a Writable as back-pressure needs. */
export interface OutputSink {
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Whether the adapter holds the program's output back, shared by the connection and watchExit. */
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

/** The exit of the child, reported once its stdout and stderr have been read to the end (or a deadline passed). */
function watchExit(child: ChildProcess, flow: OutputFlow): Promise<ProgramExit> {
  return new Promise((resolve) => {
    let streamsOpen = 2;
    let exit: ProgramExit | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (exit && streamsOpen === 0) {
        if (drainTimer) clearTimeout(drainTimer);
        resolve(exit);
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      stream?.once('close', () => { streamsOpen--; finish(); });
    }
    child.once('error', () => { exit = { code: 127, signal: null }; streamsOpen = 0; finish(); });
    child.once('exit', (code, signal) => {
      exit = { code: code ?? 128 + signalNumber(signal), signal };
      // A grandchild may keep the pipes open; don't wait for it forever. While the output is held
      // back for a slow client, though, what is left in the pipes is the program's: wait for it.
      const giveUp = () => {
        if (flow.held) drainTimer = setTimeout(giveUp, OUTPUT_DRAIN_MS);
        else { streamsOpen = 0; finish(); }
      };
      drainTimer = setTimeout(giveUp, OUTPUT_DRAIN_MS);
      finish();
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? osConstants.signals[signal] ?? 0 : 0;
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
