// What /proc says about a process, read without running anything in it: whether it is Python and
// which version, its command line and user, whether a debugger traces it, and hints of its event
// loops. The attach request checks a process with it; the process picker lists them with it.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface ProcessFacts {
  pid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
  /** The executable (unreadable for other users' processes unless root). */
  executable?: string;
  /** [major, minor] when it is a Python, else undefined. */
  python?: [number, number];
  uid?: number;
  /** The pid of a process tracing this one (a debugger), 0 when none. */
  tracerPid: number;
  /** 'Z' for a zombie, 'R' running, ... */
  state: string;
  /** An asyncio extension module is mapped (CPython builds with a shared _asyncio), when known. */
  asyncio?: boolean;
  /** Threads waiting in epoll_wait/poll/select (an idle event loop waits there), and threads running. */
  waitingInSelect: number;
  running: number;
}

const EXECUTABLE_VERSION = /python(\d)\.(\d+)/;
const LIBRARY_VERSION = /libpython(\d)\.(\d+)/;
// x86-64 and aarch64 system call numbers of the waits an idle selector loop sits in.
const SELECTOR_CALLS = new Set(process.arch === 'arm64' ? [22, 73, 72, 441] : [232, 281, 441, 7, 271, 23, 270]);
const binaryVersions = new Map<string, [number, number] | undefined>();

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The facts of process pid, or undefined when there is no such process. */
export function describeProcess(pid: number): ProcessFacts | undefined {
  const base = `/proc/${pid}`;
  const status = read(`${base}/status`);
  if (status === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
  const command = (read(`${base}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
  let executable: string | undefined;
  try {
    executable = readlinkSync(`${base}/exe`);
  } catch { /* another user's process, or a kernel thread */ }
  const maps = read(`${base}/maps`);
  const facts: ProcessFacts = {
    pid, command, executable, uid: Number(field('Uid')), tracerPid: Number(field('TracerPid') ?? 0), state: field('State') ?? '?',
    python: pythonVersion(executable, maps, command), asyncio: maps === undefined ? undefined : /\/_asyncio[.\w-]*\.so/.test(maps),
    waitingInSelect: 0, running: 0,
  };
  let tids: string[] = [];
  try {
    tids = readdirSync(`${base}/task`);
  } catch { /* gone meanwhile */ }
  for (const tid of tids) {
    const call = read(`${base}/task/${tid}/syscall`)?.split(' ')[0];
    if (call !== undefined && SELECTOR_CALLS.has(Number(call))) facts.waitingInSelect++;
    const stat = read(`${base}/task/${tid}/stat`);
    if (stat && stat.slice(stat.lastIndexOf(')') + 2).startsWith('R')) facts.running++;
  }
  return facts;
}

/** The Python version of a process: from its executable's name (python3.12, also behind a venv's
 * symlink), a libpython it maps, or the version string inside its executable. */
function pythonVersion(executable: string | undefined, maps: string | undefined, command: string): [number, number] | undefined {
  const name = path.basename(executable ?? command.split(' ')[0] ?? '');
  const fromName = EXECUTABLE_VERSION.exec(name);
  if (fromName) return [Number(fromName[1]), Number(fromName[2])];
  const fromLibrary = maps ? LIBRARY_VERSION.exec(maps) : null;
  if (fromLibrary) return [Number(fromLibrary[1]), Number(fromLibrary[2])];
  if (executable && /^python/.test(name)) return versionInBinary(executable.replace(/ \(deleted\)$/, ''));
  return undefined;
}

/** The "3.X.Y (main, ..." string CPython compiles into its executable (read once per file). */
function versionInBinary(file: string): [number, number] | undefined {
  if (binaryVersions.has(file)) return binaryVersions.get(file);
  let version: [number, number] | undefined;
  try {
    if (statSync(file).size < 256 << 20) {
      const match = /(?<![\d.])3\.(\d{1,2})\.\d{1,2}(?:[abrc]{1,2}\d+)?\+? \((?:main|tags|heads|default)/.exec(readFileSync(file).toString('latin1'));
      if (match) version = [3, Number(match[1])];
    }
  } catch { /* unreadable */ }
  binaryVersions.set(file, version);
  return version;
}

/** Every Python process on the machine this user can see, but the adapter's own kin. */
export function listPythonProcesses(): ProcessFacts[] {
  const found: ProcessFacts[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found; // no /proc: not Linux
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const facts = describeProcess(Number(entry));
    if (facts?.python && facts.state !== 'Z') found.push(facts);
  }
  return found.sort((a, b) => b.pid - a.pid);
}

/** A few words on a Python process for a list: 'Python 3.12 · asyncio · idle loop?' */
export function processSummary(facts: ProcessFacts): string {
  const words = [facts.python ? `Python ${facts.python.join('.')}` : 'not Python'];
  if (facts.asyncio) words.push('asyncio loaded');
  if (facts.waitingInSelect) words.push(`${facts.waitingInSelect} thread${facts.waitingInSelect > 1 ? 's' : ''} waiting in select`);
  if (facts.running) words.push(`${facts.running} running`);
  if (facts.tracerPid) words.push(`traced by ${facts.tracerPid}`);
  return words.join(' · ');
}
