// `loopscope explore`: runs a program many times, each run under a seeded perturbation of its
// schedule (runtime/loopscope/perturbation.py), until one fails; keeps that run's recording, which
// replays the failure every time (`"replay"` in launch.json, or `python -m loopscope --replay`).
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findRuntimeDir } from '../adapter/runtimeConnection';

export interface ExploreOptions {
  python?: string;
  program?: string;
  module?: string;
  args: string[];
  runs: number;
  seed: number;
  jitter?: number;
  /** Seconds one run may take before it is ended and counted as a failure (a hang). */
  timeout: number;
  /** Where the failing run's recording goes. */
  out: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

interface RunResult { code: number | null; signal: NodeJS.Signals | null; hung: boolean; output: string; missing?: boolean }

/** 0: no run failed; 1: a run failed (its recording is at options.out); 2: explore itself could not run. */
export async function runExplore(options: ExploreOptions): Promise<number> {
  const runtimeDir = findRuntimeDir();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'loopscope-explore-'));
  const target = options.module !== undefined ? `-m ${options.module}` : options.program!;
  try {
    for (let index = 0; index < options.runs; index++) {
      const seed = options.seed + index;
      const recording = path.join(scratch, `seed-${seed}.lsrec`);
      const result = await runOnce(options, runtimeDir, seed, recording);
      if (result.missing) {
        options.stderr.write(`loopscope: ${result.output}\n`);
        return 2;
      }
      if (result.code === 0 && !result.hung) continue;
      if (index === 0 && result.code === 2 && /^loopscope: /m.test(result.output)) {
        options.stderr.write(result.output); // the runtime refused the command line: not the program failing
        return 2;
      }
      renameSync(recording, options.out);
      const how = result.hung ? `did not end within ${options.timeout} s (ended by explore)`
        : result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      options.stdout.write(`Run ${index + 1} of ${options.runs} (seed ${seed}) failed: ${target} ${how}.\n`);
      const tail = result.output.trimEnd().split('\n').slice(-12).join('\n');
      if (tail) options.stdout.write(`${tail.replace(/^/gm, '  | ')}\n`);
      options.stdout.write(`Its schedule is recorded in ${options.out}; it fails the same way on every replay:\n`
        + `  "replay": "${options.out}" in launch.json, or\n`
        + `  ${options.python ?? 'python3'} ${path.join(runtimeDir, 'loopscope', '__main__.py')} --replay ${options.out} ${target}\n`);
      return 1;
    }
    options.stdout.write(`No failure in ${options.runs} runs of ${target} (seeds ${options.seed} to ${options.seed + options.runs - 1}).\n`);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function runOnce(options: ExploreOptions, runtimeDir: string, seed: number, recording: string): Promise<RunResult> {
  const python = options.python ?? 'python3';
  const argv = ['-u', path.join(runtimeDir, 'loopscope', '__main__.py'), '--explore', String(seed), '--record', recording];
  if (options.jitter !== undefined) argv.push('--jitter', String(options.jitter));
  argv.push(...(options.module !== undefined ? ['-m', options.module] : [options.program!]), ...options.args);
  return new Promise((resolve) => {
    let output = '';
    let hung = false;
    const child = spawn(python, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-64_000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const timer = setTimeout(() => {
      hung = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, options.timeout * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      resolve({ code: null, signal: null, hung: false, missing: true,
        output: missing ? `"${python}" was not found; give --python PATH` : `could not start ${python}: ${error.message}` });
    });
    child.on('exit', () => {
      clearTimeout(timer);
      // What the run left in its process group ends with it (and lets go of the pipes).
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* nothing left */ }
    });
    child.on('close', (code, signal) => resolve({ code, signal, hung, output }));
  });
}
