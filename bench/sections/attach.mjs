// Attaching (issue #14): the time from the attach request to the first Asyncio Tasks view (the
// stopped event, then the loopscope/snapshot the view asks for) for each hard case, on every
// CPython pyenv has; and what a detach leaves behind: the program's own rounds of work before the
// attach and after the detach (CPU time per round, same process), over ten attach/detach cycles.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LoopscopeSession, ROOT, benchEnv, deadline } from '../lib/dap.mjs';
import { median, percentile } from '../lib/util.mjs';

const TARGET = path.join(ROOT, 'test', 'fixtures', 'attach', 'target.py');
const SERVER = path.join(ROOT, 'test', 'fixtures', 'attach', 'http_server.py');
const LOAD = path.join(ROOT, 'test', 'fixtures', 'attach', 'http_load.py');
const ROUNDS = path.join(ROOT, 'bench', 'fixtures', 'rounds.py');

/** The cases: what the program is doing when Loopscope attaches. */
/** A window's CPU time per round: its 10th percentile, the rounds least disturbed by the machine's
 * other work (on two shared cores a round takes 8 or 15 ms as the neighbours come and go, so a
 * median follows the neighbours). */
export const quiet = (rounds) => percentile(rounds, 10);

export const ATTACH_CASES = [
  { key: 'idle', label: 'idle deadlock (main thread in select(), no timer, no I/O)', args: [TARGET, 'idle'] },
  { key: 'busy', label: 'busy callback on the main thread', args: [TARGET, 'busy'] },
  { key: 'ready', label: 'main loop always ready (100 tasks awaiting sleep(0))', args: [TARGET, 'ready'] },
  { key: 'thread', label: 'idle loop on another thread, main thread in join()', args: [TARGET, 'thread'] },
  // 3.8 cannot stop a busy loop on another thread: no loop would hold, no view would come.
  { key: 'tbusy', label: 'busy loop on another thread, main thread in join()', args: [TARGET, 'tbusy'], from: 9 },
  { key: 'multi', label: 'three loops: main idle, one idle and one busy on threads', args: [TARGET, 'multi'] },
  { key: 'http', label: 'HTTP server under load (4 keep-alive clients)', args: [SERVER] },
];

/** A program started for the benchmark; lines() yields its stdout lines as they come. */
function startProgram(python, args) {
  const child = spawn(python, ['-u', ...args], { cwd: path.dirname(args[0]), env: benchEnv(), stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  const lines = [];
  const waiters = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      lines.push(line);
      for (const waiter of waiters.splice(0)) waiter();
    }
  });
  const program = {
    child,
    lines,
    /** The first line after index `from` that starts with prefix. */
    async line(prefix, from = 0, ms = 30_000) {
      const started = performance.now();
      for (;;) {
        const found = lines.slice(from).find((l) => l.startsWith(prefix));
        if (found) return found;
        if (performance.now() - started > ms) throw new Error(`no '${prefix}' line from ${args.join(' ')} within ${ms} ms`);
        await deadline(new Promise((resolve) => waiters.push(resolve)), ms, `a line from ${path.basename(args[0])}`).catch(() => undefined);
      }
    },
    stop() {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    },
  };
  return program;
}

/** Attach, wait for the stop and the first snapshot; returns the times (ms) from the attach request. */
async function attachOnce(pid) {
  const session = new LoopscopeSession();
  await session.start();
  try {
    const sent = performance.now();
    const attached = session.request('attach', { processId: pid }, 90_000);
    const initialized = session.nextEvent('initialized', 90_000);
    initialized.catch(() => undefined); // a failed attach sends none: its error is the answer
    if (await Promise.race([attached.then(() => 'answered'), initialized.then(() => 'initialized')]) === 'initialized') {
      await session.request('configurationDone', {});
      await attached;
    }
    const stop = await session.nextEvent('stopped', 60_000);
    const { body } = await session.request('loopscope/snapshot', {}, 60_000);
    const viewed = performance.now();
    // The adapter's own lines (category console) are kept with stderr by the bench's client.
    const method = /Attached to process \d+ \(Python [\d.]+, ([^)]+)\)/.exec(session.events.stderr)?.[1];
    return { stoppedMs: stop.receivedAt - sent, viewMs: viewed - sent, loops: body.loops.length, method };
  } finally {
    await session.stop(); // disconnect: a detach
  }
}

export async function runAttach({ pythons, reps, log, quickRounds }) {
  const times = {};
  const detach = {};
  for (const python of pythons) {
    const cells = {};
    for (const kase of ATTACH_CASES) {
      const cell = { viewMs: [], stoppedMs: [], methods: [], errors: [] };
      if (kase.from && Number(python.version.split('.')[1]) < kase.from) {
        cell.errors.push('not possible: Python 3.8 cannot stop busy code on another thread');
        cells[kase.key] = cell;
        continue;
      }
      for (let rep = 0; rep < reps; rep++) {
        const program = startProgram(python.path, kase.args);
        let load;
        try {
          const ready = await program.line('READY');
          if (kase.key === 'http') {
            load = spawn(python.path, [LOAD, ready.split(' ')[2], '4'], { env: benchEnv(), stdio: 'ignore', detached: true });
            await new Promise((resolve) => setTimeout(resolve, 300)); // the load under way
          } else {
            await new Promise((resolve) => setTimeout(resolve, 100)); // its loops settled
          }
          const result = await attachOnce(program.child.pid);
          cell.viewMs.push(result.viewMs);
          cell.stoppedMs.push(result.stoppedMs);
          cell.methods.push(result.method ?? '?');
        } catch (error) {
          cell.errors.push(error.message.split('\n')[0]);
          log(`  ! attach ${python.label} ${kase.key}: ${error.message.split('\n')[0]}`);
        } finally {
          if (load) try { process.kill(-load.pid, 'SIGKILL'); } catch { /* gone */ }
          program.stop();
        }
      }
      cells[kase.key] = cell;
      log(`  attach ${python.label} ${kase.key}: ${median(cell.viewMs).toFixed(0)} ms`);
    }
    times[python.label] = cells;
    detach[python.label] = await runDetach(python, log, 10, quickRounds ?? 100);
  }
  return { times, detach, load: os.loadavg()[0], when: new Date().toISOString() };
}

/** Rounds of work before the first attach and after the first and the tenth detach, in one process;
 * beside it a control process that nobody attaches to, whose rounds over the same windows take out
 * the machine's own drift (the bench shares two cores with whatever else runs). */
async function runDetach(python, log, cycles = 10, rounds = 100) {
  const program = startProgram(python.path, [ROUNDS]);
  const control = startProgram(python.path, [ROUNDS]);
  const cpuOf = (line) => Number(line.split(' ')[2]);
  const marks = () => [program.lines.length, control.lines.length];
  /** CPU times of `rounds` rounds of each process from the marks on (the first two skipped: warm-up, or the detach itself). */
  const roundsFrom = async ([fromProgram, fromControl]) => {
    const take = (p, from) => p.lines.slice(from).filter((l) => l.startsWith('ROUND ')).slice(2, rounds + 2).map(cpuOf);
    while (take(program, fromProgram).length < rounds || take(control, fromControl).length < rounds) {
      await Promise.race([program.line('ROUND', program.lines.length), control.line('ROUND', control.lines.length)]);
    }
    return { program: take(program, fromProgram), control: take(control, fromControl) };
  };
  try {
    await Promise.all([program.line('READY'), control.line('READY')]);
    const before = await roundsFrom([0, 0]);
    const after = [];
    const attachMs = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      const started = performance.now();
      await attachOnce(program.child.pid);
      attachMs.push(performance.now() - started);
      if (cycle === 0 || cycle === cycles - 1) after.push(await roundsFrom(marks()));
    }
    const result = { before, afterFirst: after[0], afterLast: after[after.length - 1], attachMs };
    const drift = quiet(result.afterLast.control) / quiet(before.control);
    log(`  detach ${python.label}: ${(quiet(result.afterLast.program) / quiet(before.program) / drift).toFixed(3)}× after ${cycles} cycles (control drifted ${drift.toFixed(3)}×)`);
    return result;
  } catch (error) {
    log(`  ! detach ${python.label}: ${error.message.split('\n')[0]}`);
    return { error: error.message.split('\n')[0] };
  } finally {
    program.stop();
    control.stop();
  }
}
