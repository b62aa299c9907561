// The program's process as the adapter sees it: one it spawned itself (its child, leading a process
// group of its own, its output on the adapter's pipes), one it started elsewhere (in a terminal
// through the client's runInTerminal, or a child process of the program), known by the pid the
// runtime's hello gives and seen to end when the control connection closes and the pid is gone, or
// one it joined (attach, listen mode), which is never Loopscope's to signal. Each: when it ends, how
// to signal it, and letting it go (detach).
import { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';

/** SIGTERM first; SIGKILL after this long to whatever ignored it. */
export const KILL_GRACE_MS = 2_000;
/** How long the exit waits for the program's pipes to be read to their end (a grandchild may hold them). */
const OUTPUT_DRAIN_MS = 1_000;
/** How often a process that is not the adapter's child is looked for once its connection closed. */
const POLL_MS = 25;

export interface ProgramExit {
  /** The exit code, or 128 + signal number when a signal ended the program; null when unknown (a
   * program that is not the adapter's child and ended without the runtime's notice). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** An attached program: its connection closed; whether it exited, and how, is not known here. */
  connectionOnly?: boolean;
}

export interface ProgramProcess {
  readonly pid: number | undefined;
  /** Resolves when the program has exited (and its output on the adapter's pipes has been read). */
  readonly exited: Promise<ProgramExit>;
  /** The exit code the runtime announced (its exiting event). */
  announceExit(code: number): void;
  /** A signal to the program: to its process group where it leads one (what it left running ends too). */
  kill(signal: NodeJS.Signals): void;
  /** Let the program go (detach): it is no longer watched, and nothing ends it when the adapter goes. */
  release(): void;
}

/** A program the adapter spawned (detached, so it leads a process group of its own). */
export class SpawnedProgram implements ProgramProcess {
  readonly exited: Promise<ProgramExit>;
  private released = false;

  /** outputHeld(): the adapter is holding the program's output back for a slow client (see watchExit). */
  constructor(private readonly child: ChildProcess, outputHeld: () => boolean) {
    this.exited = watchExit(child, outputHeld);
    // No process outlives the session: what the program left running in its process group (children
    // it did not wait for, a child forked from the Debug Console) ends with it, however it ended.
    this.exited.then(() => { if (!this.released) endGroup(child.pid); });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  announceExit(): void {
    // The adapter sees its own child's exit status.
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.released) killGroup(this.child.pid, signal, true);
  }

  release(): void {
    this.released = true;
    this.child.unref();
    for (const pipe of [this.child.stdout, this.child.stderr]) (pipe as net.Socket | null)?.unref();
  }
}

/** A program the adapter did not spawn: its pid is the hello's, and it has ended once its control
 * connection has closed and the pid is gone (or is a zombie waiting for its parent). */
export class RemoteProgram implements ProgramProcess {
  readonly exited: Promise<ProgramExit>;
  private announced: number | null = null;
  private released = false;
  private readonly leadsGroup: boolean;

  constructor(readonly pid: number, connection: net.Socket) {
    this.leadsGroup = processGroupOf(pid) === pid;
    this.exited = new Promise((resolve) => {
      connection.once('close', () => {
        const poll = () => {
          if (this.released || !processAlive(this.pid)) resolve(this.exitStatus());
          else setTimeout(poll, POLL_MS);
        };
        poll();
      });
    });
  }

  announceExit(code: number): void {
    this.announced = code;
  }

  private exitStatus(): ProgramExit {
    const code = this.announced;
    const signal = code !== null && code > 128 ? signalName(code - 128) : null;
    return { code, signal };
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.released) killGroup(this.pid, signal, this.leadsGroup);
  }

  release(): void {
    this.released = true;
  }
}

/** A program Loopscope joined (attach by process id, listen mode): as far as the adapter can tell it
 * is over once its connection closes (it may well run on), and ending it is not Loopscope's to do:
 * kill() only closes the connection (the runtime in it then takes itself out). */
export class AttachedProgram implements ProgramProcess {
  readonly exited: Promise<ProgramExit>;

  constructor(readonly pid: number, private readonly connection: net.Socket) {
    this.exited = new Promise((resolve) => connection.once('close', () => resolve({ code: 0, signal: null, connectionOnly: true })));
  }

  announceExit(): void {
    // Its end is only known as its connection's.
  }

  kill(): void {
    this.connection.destroy();
  }

  release(): void {
    // Nothing of the adapter's watches it or would end it.
  }
}

/** SIGTERM to the process group, then SIGKILL to whatever ignored it. */
export function endGroup(pid: number | undefined): void {
  killGroup(pid, 'SIGTERM', true);
  setTimeout(() => killGroup(pid, 'SIGKILL', true), KILL_GRACE_MS).unref();
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals, group: boolean): void {
  if (pid === undefined) return;
  if (group) {
    try {
      process.kill(-pid, signal);
      return;
    } catch { /* no such group: the process alone */ }
  }
  try { process.kill(pid, signal); } catch { /* already gone */ }
}

/** Whether a process is running (a zombie has ended: it only waits for its parent to collect it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: kill(pid, 0) is all there is
  }
}

/** The process group of pid (Linux's /proc), or undefined. */
function processGroupOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return Number(fields[2]); // state, ppid, pgrp
  } catch {
    return undefined;
  }
}

/** The exit of the child, reported once its stdout and stderr have been read to the end (or a deadline passed). */
function watchExit(child: ChildProcess, outputHeld: () => boolean): Promise<ProgramExit> {
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
        if (outputHeld()) drainTimer = setTimeout(giveUp, OUTPUT_DRAIN_MS);
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

function signalName(number: number): NodeJS.Signals | null {
  const found = Object.entries(osConstants.signals).find(([, value]) => value === number);
  return found ? (found[0] as NodeJS.Signals) : null;
}
