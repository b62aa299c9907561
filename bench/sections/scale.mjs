// Scale: the program's peak RSS (VmHWM, read by the program itself) with 100,000 live tasks, plain
// and under Loopscope through the adapter, interleaved; snapshot size and time at 10,000 and
// 100,000 tasks (issue #3); and what the views ask for at a stop at those sizes (issue #13): the
// snapshot without tasks, the task groups and the first page of the biggest group, then a filter
// and a grouping by what tasks wait on, each answered by the runtime over every task.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LoopscopeSession } from '../lib/dap.mjs';
import { parseBenchLine, runPlain } from '../lib/util.mjs';
import { launchLiveTasks, LIVE_TASKS, SNAPSHOT_TIMEOUT_MS, trySnapshot } from './step.mjs';

const ITERATIONS = '20';

async function memoryUnderLoopscope(python, count) {
  const session = new LoopscopeSession();
  try {
    await session.start();
    await session.launch({ program: LIVE_TASKS, args: [String(count), 'event', ITERATIONS], python: python.path, cwd: path.dirname(LIVE_TASKS) });
    const code = await session.finished(300_000);
    if (code !== 0) throw new Error(`exit code ${code}${session.tail()}`);
    return parseBenchLine(session.stdout);
  } finally {
    await session.stop();
  }
}

export async function runMemory({ pythons, count, reps, log }) {
  const results = {};
  for (const python of pythons) {
    const cell = { tasks: count, plain: [], loopscope: [], errors: [] };
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? ['loopscope', 'plain'] : ['plain', 'loopscope'];
      for (const mode of order) {
        try {
          const result = mode === 'plain'
            ? await runPlain(python.path, LIVE_TASKS, [String(count), 'event', ITERATIONS], path.dirname(LIVE_TASKS))
            : await memoryUnderLoopscope(python, count);
          cell[mode].push(result);
        } catch (error) {
          cell.errors.push(`${mode}: ${error.message.split('\n')[0]}`);
          log(`  ! memory ${python.label} ${mode}: ${error.message.split('\n')[0]}`);
        }
      }
    }
    results[python.label] = cell;
    log(`  memory ${python.label} done`);
  }
  return results;
}

/**
 * Snapshot time and size at each size, for the first 1,000 tasks and for all; n/a without the
 * request. A size whose snapshot would pass the request timeout (judged from the size before it,
 * assuming linear growth) is skipped with a note, so a slow snapshot cannot hold the run for minutes.
 */
/** The requests the VS Code views make at a stop, timed: { stopView, filter, byBlocker } in ms. */
async function viewRequests(session) {
  const timed = async (command, args) => {
    const started = performance.now();
    const response = await session.request(command, args, SNAPSHOT_TIMEOUT_MS);
    return { ms: performance.now() - started, body: response.body };
  };
  const snapshot = await timed('loopscope/snapshot', { maxTasks: 0 });
  const loopId = snapshot.body.loops[0].id;
  const groups = await timed('loopscope/tasks', { loopId });
  const biggest = [...groups.body.groups].sort((a, b) => b.count - a.count)[0];
  const page = await timed('loopscope/tasks', { loopId, group: biggest.key, start: 0, count: 200 });
  const filter = await timed('loopscope/tasks', { loopId, filter: 'no-such-task' });
  const byBlocker = await timed('loopscope/tasks', { loopId, groupBy: 'blocker' });
  return { stopView: snapshot.ms + groups.ms + page.ms, filter: filter.ms, byBlocker: byBlocker.ms };
}

export async function runSnapshots({ python, sizes, reps, supported, log }) {
  if (!supported) return { supported: false };
  const results = { supported: true, python: python.label, rows: [] };
  let previous;
  for (const count of sizes) {
    if (previous && previous.ms * (count / previous.tasks) > SNAPSHOT_TIMEOUT_MS) {
      results.rows.push({ tasks: count, skipped: `skipped: at ${previous.tasks.toLocaleString('en')} tasks one snapshot took ${(previous.ms / 1000).toFixed(1)} s, so this size would pass the ${SNAPSHOT_TIMEOUT_MS / 1000} s limit` });
      continue;
    }
    let session;
    try {
      const launched = await launchLiveTasks(python, count, 'event');
      session = launched.session;
      const row = { tasks: count, first1000: [], all: [], views: [] };
      for (let rep = 0; rep < reps; rep++) row.views.push(await viewRequests(session));
      for (let rep = 0; rep < reps; rep++) {
        const first = await trySnapshot(session, 1000);
        row.first1000.push(first);
        if (!first.supported || first.ms > SNAPSHOT_TIMEOUT_MS / 4) break;  // one slow sample says enough
        const all = await trySnapshot(session, count);
        row.all.push(all);
        if (!all.supported || all.ms > SNAPSHOT_TIMEOUT_MS / 4) break;
      }
      results.rows.push(row);
      const times = [...row.first1000, ...row.all].filter((s) => s.supported).map((s) => s.ms);
      previous = { tasks: count, ms: times.length ? Math.max(...times) : SNAPSHOT_TIMEOUT_MS };
    } catch (error) {
      log(`  ! snapshot ${count}: ${error.message.split('\n')[0]}`);
      results.rows.push({ tasks: count, error: error.message.split('\n')[0] });
      previous = { tasks: count, ms: SNAPSHOT_TIMEOUT_MS };
    } finally {
      await session?.stop();
    }
  }
  return results;
}
