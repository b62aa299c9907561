// Attaching to a running Python by process id: checks the process from /proc, opens the control
// channel's listener, and runs the attach helper (runtime/loopscope/outside/cli.py) as the program's
// own interpreter, which writes the ticket and gets it run (sys.remote_exec from 3.14, gdb before);
// then waits for the runtime's hello. Says exactly why when it cannot.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { InjectionResult, PROTOCOL_VERSION, SUPPORTED_PYTHONS } from './protocol';
import { describeProcess, ProcessFacts } from './pythonProcess';
import { findRuntimeDir, LaunchError, RuntimeConnection } from './runtimeConnection';
import { RuntimeListener, RuntimeRefused } from './runtimeListener';

/** How long the runtime gets to connect once the helper says the ticket went in (a pending call
 * waits for the main thread's next bytecode; the runtime then imports itself and connects). */
const HELLO_AFTER_INJECTION_MS = 15_000;
/** The helper: sys.remote_exec and a kick take milliseconds, gdb up to its own 15 s timeout and retries. */
const HELPER_DEADLINE_MS = 60_000;
const EXIT_POLL_MS = 100;

export interface ProcessAttachOptions {
  pid: number;
  gdb: string;
  runtimeDir?: string;
}

/** The runtime is in and connected. */
export interface AttachedRuntime {
  kind: 'attached';
  connection: RuntimeConnection;
  facts: ProcessFacts;
  /** How the ticket went in and how long the whole attach took. */
  method: string;
  seconds: number;
}

/** No code may run in the program, but a 3.14+ program can still be read from outside (readOnlyProcess.ts). */
export interface ReadOnlyOnly {
  kind: 'read-only';
  facts: ProcessFacts;
  /** Why nothing runs in it, for the user. */
  why: string;
  /** The program's own interpreter, which can read it. */
  interpreter: string;
}

/** An attach that cannot go ahead; the message says why and what to do. */
export class AttachError extends LaunchError {}

const [OLDEST, NEWEST] = [SUPPORTED_PYTHONS.oldest, SUPPORTED_PYTHONS.newest].map((v) => v.split('.').map(Number) as [number, number]);
const atLeast = (version: [number, number], floor: [number, number]) => version[0] > floor[0] || (version[0] === floor[0] && version[1] >= floor[1]);

/** The facts of a process that can be attached to; throws AttachError saying why one cannot. */
export function checkProcess(pid: number): ProcessFacts {
  const facts = describeProcess(pid);
  if (!facts || facts.state === 'Z') throw new AttachError(`There is no process ${pid}${facts ? ' any more (it exited)' : ''}. Pick a running Python process.`);
  const what = `Process ${pid} (${shorten(facts.command) || 'no command line'})`;
  if (!facts.python) {
    throw new AttachError(facts.executable === undefined && facts.uid !== process.getuid?.()
      ? `${what} belongs to another user: Loopscope cannot even see whether it is Python. Attach as that user, or as root.`
      : `${what} is not a Python process.`);
  }
  const version = facts.python.join('.');
  if (!atLeast(facts.python, OLDEST) || !atLeast(NEWEST, facts.python)) {
    throw new AttachError(`${what} runs Python ${version}; Loopscope supports Python ${SUPPORTED_PYTHONS.oldest} to ${SUPPORTED_PYTHONS.newest}.`);
  }
  if (facts.tracerPid) {
    const tracer = describeProcess(facts.tracerPid);
    throw new AttachError(`${what} is being traced by process ${facts.tracerPid}${tracer ? ` (${shorten(tracer.command)})` : ''}: another ` +
      'debugger is attached to it. Detach that one first.');
  }
  return facts;
}

/** The program's own interpreter, which the helper must be (sys.remote_exec and the 3.14+ memory
 * reader need the same minor version): its executable, through /proc when it was replaced on disk. */
export function interpreterOf(facts: ProcessFacts): string | undefined {
  const executable = facts.executable;
  if (!executable || !/^python/.test(path.basename(executable))) return undefined; // an embedding program
  return executable.endsWith(' (deleted)') || !existsSync(executable) ? `/proc/${facts.pid}/exe` : executable;
}

export async function attachToProcess(options: ProcessAttachOptions): Promise<AttachedRuntime | ReadOnlyOnly> {
  const started = Date.now();
  const facts = checkProcess(options.pid);
  const own = interpreterOf(facts);
  const runtimeDir = options.runtimeDir ?? findRuntimeDir();
  const listener = await RuntimeListener.open();
  const exited = watchForExit(options.pid);
  try {
    const helper = runHelper(own ?? 'python3', runtimeDir, options, {
      port: listener.port, token: listener.token, protocolVersion: PROTOCOL_VERSION,
    }, own ? 'auto' : 'gdb');
    const injected = Promise.race([helper, exited.promise]);
    // The hello may come before the helper has finished (gdb detaching), never without a ticket that
    // ran: the attach fails when the helper does, or when no hello follows its success in time.
    let helloTimer: NodeJS.Timeout | undefined;
    let answered = false;
    const failed = injected.then((result) => new Promise<never>((_resolve, reject) => {
      if (!result.ok) return reject(new InjectionFailed(result));
      if (answered) return; // the runtime connected before the helper was done
      helloTimer = setTimeout(() => reject(new AttachError(
        `Loopscope's bootstrap went into process ${options.pid} (${result.method}) but its runtime did not connect within ` +
        `${HELLO_AFTER_INJECTION_MS / 1000} s: the main thread may be blocked in C code that holds the GIL.`)), HELLO_AFTER_INJECTION_MS);
    }));
    let proven;
    try {
      proven = await listener.accept(HELPER_DEADLINE_MS + HELLO_AFTER_INJECTION_MS, failed,
        () => new AttachError(`Attaching to process ${options.pid} took too long; nothing of Loopscope's runs in it.`));
    } catch (error) {
      if (error instanceof InjectionFailed) return readOnlyOr(error, facts, own);
      if (error instanceof RuntimeRefused) throw new AttachError(error.message);
      throw error;
    } finally {
      answered = true;
      clearTimeout(helloTimer);
    }
    const connection = RuntimeConnection.attached(proven.socket, proven.hello, proven.leftover);
    listener.tellRefusalsTo(connection);
    const seconds = (Date.now() - started) / 1000;
    const result = await injected; // gdb may still be detaching: it quits right after
    return { kind: 'attached', connection, facts, method: result.ok ? result.method ?? 'gdb' : 'gdb', seconds };
  } finally {
    exited.stop();
    listener.close();
  }
}

class InjectionFailed extends Error {
  constructor(readonly result: InjectionResult) {
    super(result.message);
  }
}

/** A failure that still allows reading the program from outside (3.14+), else the error itself. */
function readOnlyOr(error: InjectionFailed, facts: ProcessFacts, own: string | undefined): ReadOnlyOnly {
  const readable = own && facts.python && atLeast(facts.python, [3, 14]) && error.result.reason === 'remote-debug-disabled';
  if (!readable) throw new AttachError(error.message);
  return { kind: 'read-only', facts, why: error.message, interpreter: own! };
}

/** runtime/loopscope/outside/cli.py inject, isolated from the user's environment, the settings on stdin. */
function runHelper(interpreter: string, runtimeDir: string, options: ProcessAttachOptions, settings: object, method: string): Promise<InjectionResult> {
  const cli = path.join(runtimeDir, 'loopscope', 'outside', 'cli.py');
  return new Promise((resolve) => {
    // In a process group of its own: at the deadline SIGINT reaches gdb too, which then undoes its call
    // in the program and detaches (never SIGKILL gdb in the middle of a call: the program would die).
    const child = spawn(interpreter, ['-I', '-S', cli, 'inject', String(options.pid), '--gdb', options.gdb, '--method', method],
      { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGINT'); } catch { /* gone */ } }, HELPER_DEADLINE_MS);
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: 'unsupported', message: `Loopscope could not run ${interpreter} to attach: ${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as InjectionResult);
      } catch {
        resolve({ ok: false, reason: 'gdb-failed', message: `Loopscope's attach helper (${interpreter}) failed (exit ${code}): ${(stderr || stdout).trim().slice(-2000)}` });
      }
    });
    child.stdin.end(JSON.stringify(settings));
  });
}

/** Resolves with a failure when process pid is gone (there is no event for another process's exit). */
function watchForExit(pid: number): { promise: Promise<InjectionResult>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<InjectionResult>((resolve) => {
    timer = setInterval(() => {
      const facts = describeProcess(pid);
      if (!facts || facts.state === 'Z') {
        clearInterval(timer);
        resolve({ ok: false, reason: 'exited', message: `Process ${pid} exited while Loopscope was attaching to it.` });
      }
    }, EXIT_POLL_MS);
  });
  return { promise, stop: () => clearInterval(timer) };
}

function shorten(command: string): string {
  return command.length > 120 ? `${command.slice(0, 117)}…` : command;
}
