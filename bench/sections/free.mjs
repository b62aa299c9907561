// Free-running overhead: each workload times its own asyncio part; modes run interleaved (plain,
// Loopscope, Loopscope + task breakpoint, ..., debugpy, plain, ...) with the order rotated every
// round, and each mode is compared with plain Python on the same interpreter. debugpy runs on every
// interpreter that can import it, through its own adapter as VS Code launches it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DebugpySession, LoopscopeSession, ROOT } from '../lib/dap.mjs';
import { parseBenchLine, runPlain } from '../lib/util.mjs';

const WORKLOAD_DIR = path.join(ROOT, 'bench', 'workloads');
export const NEVER_RUNS = path.join(ROOT, 'bench', 'fixtures', 'never_runs.py');
/** The line marked `# @breakpoint` in never_runs.py. */
export const NEVER_RUNS_LINE = readFileSync(NEVER_RUNS, 'utf8').split('\n').findIndex((l) => /#.*@breakpoint\b/.test(l)) + 1;
const NEVER_RUNS_BREAKPOINT = { source: { path: NEVER_RUNS }, breakpoints: [{ line: NEVER_RUNS_LINE }] };
const RUN_TIMEOUT_MS = 300_000;

export const WORKLOADS = [
  { id: 'sleep0', file: 'sleep0.py', title: 'sleep(0): 1,000 tasks × 200 `await asyncio.sleep(0)`', handles: (r) => r.steps },
  { id: 'queue', file: 'queue_pc.py', title: 'Queue: 8 producers → 8 consumers, 80,000 items, maxsize 64' },
  { id: 'timers', file: 'timers.py', title: 'timers: 500 tasks × 60 `sleep(0.0001)` + 30,000 `call_later` (≤ 2 ms)' },
  { id: 'futures', file: 'futures_cb.py', title: 'futures: 500 tasks × 200 futures resolved by `call_soon(fut.set_result)`' },
  { id: 'locks', file: 'locks.py', title: 'locks: 100 tasks × 400 rounds of `async with` a Lock and a Semaphore (owners recorded)' },
];

export const MODES = {
  plain: { title: 'plain Python' },
  loopscope: { title: 'Loopscope, no breakpoints' },
  nowatch: { title: 'Loopscope, no breakpoints, loopBlockedWarnings false (no blocked-loop detection)' },
  stats: { title: 'Loopscope, no breakpoints, stepStatistics "tasks" (per-task statistics and task steps on the timeline)' },
  taskbp: { title: "Loopscope, task breakpoint 'no-such-task' (never matches)" },
  funcbp: { title: "Loopscope, function breakpoint 'no_such_function' (never called)" },
  linebp: { title: 'Loopscope, line breakpoint in a file that never runs' },
  record: { title: 'Loopscope, recording the schedule (`"record"`)' },
  debugpy: { title: 'debugpy, no breakpoints' },
  debugpyLinebp: { title: 'debugpy, line breakpoint in a file that never runs' },
};
/** The modes each interpreter runs: debugpy's where it can import debugpy. */
export function modesFor(python, lineBreakpoints) {
  return ['plain', 'loopscope', 'nowatch', 'stats', 'taskbp', 'funcbp', 'record', ...(lineBreakpoints ? ['linebp'] : []),
    ...(python.debugpy ? ['debugpy', 'debugpyLinebp'] : [])];
}

async function underLoopscope(python, program, args, configure, launch = {}) {
  const session = new LoopscopeSession();
  try {
    await session.start();
    await session.launch({ program, args, python: python.path, cwd: path.dirname(program), stopOnEntry: false, ...launch }, configure);
    const code = await session.finished(RUN_TIMEOUT_MS);
    if (code !== 0) throw new Error(`exit code ${code}${session.tail()}`);
    return parseBenchLine(session.stdout);
  } finally {
    await session.stop();
  }
}

/**
 * A run under debugpy as VS Code's Python Debugger extension makes it: its adapter over stdio, a
 * launch request with justMyCode (the program's output in the Debug Console), then configure(), then
 * configurationDone.
 */
async function underDebugpy(python, program, args, configure) {
  const session = new DebugpySession(python.path, python.debugpy.dir);
  try {
    await session.start();
    await session.launch({
      type: 'debugpy', request: 'launch', name: 'bench', program, args, cwd: path.dirname(program), python: python.path,
      console: 'internalConsole', justMyCode: true, stopOnEntry: false,
    }, configure);
    const code = await session.finished(RUN_TIMEOUT_MS);
    if (code !== 0) throw new Error(`exit code ${code}${session.tail()}`);
    return parseBenchLine(session.stdout);
  } finally {
    await session.stop();
  }
}

/** configure() for a session: set the line breakpoint in never_runs.py, and note whether it was verified. */
function withNeverRunsBreakpoint(onVerified) {
  return async (session) => {
    const { body } = await session.request('setBreakpoints', NEVER_RUNS_BREAKPOINT);
    onVerified(body.breakpoints.every((b) => b.verified));
  };
}

/** One run of one workload in one mode; resolves with the workload's result line. */
export async function runWorkload(mode, python, workload, scale) {
  const program = path.join(WORKLOAD_DIR, workload.file);
  const args = [String(scale)];
  switch (mode) {
    case 'plain':
      return runPlain(python.path, program, args, WORKLOAD_DIR);
    case 'loopscope':
      return underLoopscope(python, program, args);
    case 'nowatch':
      return underLoopscope(python, program, args, undefined, { loopBlockedWarnings: false });
    case 'stats':
      return underLoopscope(python, program, args, undefined, { stepStatistics: 'tasks' });
    case 'taskbp':
    case 'funcbp': {
      // A name that cannot name a function stops only tasks; a Python name also watches where functions start.
      const name = mode === 'taskbp' ? 'no-such-task' : 'no_such_function';
      let verified;
      const result = await underLoopscope(python, program, args, async (s) => {
        const { body } = await s.request('setFunctionBreakpoints', { breakpoints: [{ name }] });
        verified = body.breakpoints.every((b) => b.verified);
      });
      return { ...result, verified };
    }
    case 'linebp': {
      let verified;
      const result = await underLoopscope(python, program, args, withNeverRunsBreakpoint((v) => { verified = v; }));
      return { ...result, verified };
    }
    case 'record': {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-bench-'));
      try {
        return await underLoopscope(python, program, args, undefined, { record: path.join(dir, 'run.lsrec') });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    case 'debugpy':
      return underDebugpy(python, program, args);
    case 'debugpyLinebp': {
      let verified;
      const result = await underDebugpy(python, program, args, withNeverRunsBreakpoint((v) => { verified = v; }));
      return { ...result, verified };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

/**
 * Does the adapter verify a line breakpoint? Launches the start-up fixture with a line breakpoint
 * in never_runs.py and reads the answer. { implemented, message }.
 */
export async function probeLineBreakpoints(python) {
  const session = new LoopscopeSession();
  let answer;
  try {
    await session.start();
    await session.launch({ program: path.join(ROOT, 'bench', 'fixtures', 'startup.py'), python: python.path, stopOnEntry: true },
      async (s) => {
        const { body } = await s.request('setBreakpoints', NEVER_RUNS_BREAKPOINT);
        answer = body.breakpoints[0] ?? {};
      });
  } catch (error) {
    return { implemented: false, message: `probe failed: ${error.message}` };
  } finally {
    await session.stop();
  }
  return { implemented: answer.verified === true, message: answer.message };
}

/**
 * pythons: [{label, path, modes}]; returns { [label]: { [workload]: { [mode]: {seconds: [...], verified, errors} } } }.
 */
export async function runFreeRunning({ pythons, reps, scale, log }) {
  const results = {};
  for (const python of pythons) {
    results[python.label] = {};
    for (const workload of WORKLOADS) {
      results[python.label][workload.id] = Object.fromEntries(python.modes.map((m) => [m, { seconds: [], cpu: [], errors: [], results: [] }]));
    }
    for (let rep = 0; rep < reps; rep++) {
      const order = python.modes.map((_, i) => python.modes[(i + rep) % python.modes.length]);
      for (const workload of WORKLOADS) {
        for (const mode of order) {
          const cell = results[python.label][workload.id][mode];
          try {
            const result = await runWorkload(mode, python, workload, scale);
            cell.seconds.push(result.seconds);
            cell.cpu.push(result.cpu_seconds);
            cell.results.push(result);
            if (result.verified !== undefined) cell.verified = result.verified;
          } catch (error) {
            cell.seconds.push(null); // keeps rounds paired by index
            cell.cpu.push(null);
            cell.errors.push(error.message.split('\n')[0]);
            log(`  ! ${python.label} ${workload.id} ${mode}: ${error.message.split('\n')[0]}`);
          }
        }
      }
      log(`  free-running ${python.label}: round ${rep + 1}/${reps} done`);
    }
  }
  return results;
}
