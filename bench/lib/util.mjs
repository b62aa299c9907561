// Small helpers shared by the benchmark sections: statistics, running a plain process, reading a
// workload's LOOPSCOPE_BENCH line, finding interpreters, describing the machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchEnv, ROOT } from './dap.mjs';

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile by nearest rank (p in 0..100). */
export function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The workload's result line: `LOOPSCOPE_BENCH {json}`. */
export function parseBenchLine(stdout) {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('LOOPSCOPE_BENCH '));
  if (!line) throw new Error(`no LOOPSCOPE_BENCH line in the output:\n${stdout.slice(-1000)}`);
  return JSON.parse(line.slice('LOOPSCOPE_BENCH '.length));
}

/** Run a process to its end; resolves with stdout, stderr, exit code and wall time from spawn to exit. */
export function runProcess(command, args, { cwd, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')}: over ${timeoutMs} ms`)); }, timeoutMs);
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      // Streams may still hold the last bytes: wait for them to close.
      let open = 2;
      const done = () => { if (--open === 0) resolve({ stdout, stderr, code, wallMs }); };
      child.stdout.once('close', done);
      child.stderr.once('close', done);
      if (child.stdout.closed) done();
      if (child.stderr.closed) done();
    });
  });
}

/** Run a Python program plainly and return its LOOPSCOPE_BENCH result. */
export async function runPlain(python, program, args, cwd) {
  const { stdout, stderr, code } = await runProcess(python, [program, ...args], { cwd });
  if (code !== 0) throw new Error(`${python} ${program} exited with ${code}: ${stderr.slice(-1000)}`);
  return parseBenchLine(stdout);
}

/** protocol.json's supported CPythons: { oldest: 8, newest: 15 } (minor numbers of 3.x). */
export function supportedMinors() {
  const { pythons } = JSON.parse(readFileSync(path.join(ROOT, 'runtime', 'loopscope', 'protocol.json'), 'utf8'));
  const minor = (v) => Number(v.split('.')[1]);
  return { oldest: minor(pythons.oldest), newest: minor(pythons.newest) };
}

/**
 * The minor versions the benchmarks measure, the one place they are chosen: the oldest supported,
 * 3.11 (the newest where line breakpoints need sys.settrace), and every one from 3.12 (sys.monitoring)
 * to the newest supported. The range comes from protocol.json.
 */
export function benchMinors({ oldest, newest } = supportedMinors()) {
  const minors = [oldest, 11, ...Array.from({ length: Math.max(0, newest - 11) }, (_, i) => 12 + i)];
  return [...new Set(minors)].filter((m) => m >= oldest && m <= newest).sort((a, b) => a - b);
}

// Asked of each interpreter: its version, whether it has Debian's layout (dist-packages under
// <prefix>/lib/python3), and debugpy's version and folder when it can import debugpy.
const PROBE = `
import json, os, sys
info = {"version": "%d.%d.%d" % sys.version_info[:3],
        "debianLayout": os.path.join(sys.prefix, "lib", "python3", "dist-packages") in sys.path, "debugpy": None}
try:
    import debugpy
    info["debugpy"] = {"version": debugpy.__version__, "dir": os.path.dirname(debugpy.__file__)}
except Exception:
    pass
print(json.dumps(info))
`;

function probe(executable) {
  try {
    return JSON.parse(execFileSync(executable, ['-I', '-c', PROBE], { env: benchEnv(), stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).toString());
  } catch {
    return undefined;
  }
}

// scripts/pythons.sh leaves this file in each version folder it made from Debian's packages.
const DEBIAN_MARKER = '.loopscope-pythons';

/**
 * The interpreters to measure: for each of benchMinors(), the newest build in pyenv's versions
 * folder. Each is labelled by origin and version ("pyenv 3.11.7", "Debian 3.14.10"), never by its
 * path; `debugpy` is { version, dir } where debugpy is importable.
 * Returns { found: [{label, version, origin, path, debugpy}], notes: [...], wanted: ['3.8', ...] }.
 */
export function findPythons(minors = benchMinors()) {
  let root = process.env.PYENV_ROOT;
  if (!root) {
    try { root = execFileSync('pyenv', ['root']).toString().trim(); } catch { root = path.join(os.homedir(), '.pyenv'); }
  }
  const versionsDir = path.join(root, 'versions');
  const names = existsSync(versionsDir) ? readdirSync(versionsDir) : [];
  const found = [];
  const notes = [];
  for (const minor of minors) {
    const candidates = names.filter((n) => new RegExp(`^3\\.${minor}\\.\\d+$`).test(n)
      && existsSync(path.join(versionsDir, n, 'bin', 'python3')))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const name = candidates[candidates.length - 1];
    const executable = name && path.join(versionsDir, name, 'bin', 'python3');
    const info = executable && probe(executable);
    if (!info) {
      notes.push(`CPython 3.${minor}: ${name ? `${name} in pyenv's versions folder does not run` : 'not found in pyenv\'s versions folder'}; skipped${minor >= 14 ? ' (`npm run pythons` installs Debian\'s 3.14 and 3.15 there)' : ''}.`);
      continue;
    }
    const origin = existsSync(path.join(versionsDir, name, DEBIAN_MARKER)) || info.debianLayout ? 'Debian' : 'pyenv';
    found.push({ label: `${origin} ${info.version}`, version: info.version, origin, path: executable, debugpy: info.debugpy ?? undefined });
  }
  return { found, notes, wanted: minors.map((m) => `3.${m}`) };
}

/** nproc, CPU model, memory, kernel, node: for the report's header. */
export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1].trim();
  } catch { /* not Linux */ }
  let memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  try {
    const kb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);
    memory = `${(kb / 2 ** 20).toFixed(1)} GiB`;
  } catch { /* not Linux */ }
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try { nproc = Number(execFileSync('nproc').toString().trim()); } catch { /* keep os's count */ }
  return { nproc, cpu, memory, kernel: `${os.type()} ${os.release()}`, node: process.version };
}

/** The commit benchmarked, and whether runtime/ or extension/ had uncommitted changes. */
export function gitState(root) {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    // Porcelain lines are "XY path": keep their leading spaces (no trim) so that slice(3) is the path.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'runtime', 'extension'], { cwd: root }).toString();
    return { commit, dirty: dirty.split('\n').filter((l) => l.length > 3).map((l) => l.slice(3)) };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
