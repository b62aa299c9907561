// Step latency: with N live tasks, the time from a DAP `next` to its `stopped` event, and from the
// stop to complete `threads` + `stackTrace` answers (what VS Code asks for on every stop), and to a
// `loopscope/snapshot` answer when the adapter has that request (issue #3).
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LoopscopeSession, ROOT } from '../lib/dap.mjs';
import { runPlain } from '../lib/util.mjs';

export const LIVE_TASKS = path.join(ROOT, 'bench', 'fixtures', 'live_tasks.py');
const WARM_UP_STEPS = 4;
export const SNAPSHOT_TIMEOUT_MS = 60_000;

/** What the snapshot request is asked for: every loop, at most `count` tasks each (protocol.json SnapshotArguments). */
export function snapshotArguments(count = 1000) {
  return { maxTasks: count };
}

/** Ask for a snapshot; { supported, ms, bytes, tasks, tasksTotal, error }. */
export async function trySnapshot(session, count = 1000) {
  const started = performance.now();
  try {
    const response = await session.request('loopscope/snapshot', snapshotArguments(count), SNAPSHOT_TIMEOUT_MS);
    const ms = performance.now() - started;
    const body = response.body ?? {};
    const loops = Array.isArray(body.loops) ? body.loops : [];
    const tasks = loops.reduce((n, l) => n + (Array.isArray(l.tasks) ? l.tasks.length : 0), 0);
    const tasksTotal = loops.reduce((n, l) => n + (l.tasksTotal ?? 0), 0);
    return { supported: true, ms, bytes: Buffer.byteLength(JSON.stringify(body)), tasks, tasksTotal };
  } catch (error) {
    const unknown = /does not know the request|unknown request|unrecognized request|not supported/i.test(error.message);
    return { supported: false, error: unknown ? undefined : error.message };
  }
}

/** Launch the fixture with N live tasks, stopped on entry, and step past task creation. */
export async function launchLiveTasks(python, count, mode) {
  const session = new LoopscopeSession();
  await session.start();
  await session.launch({ program: LIVE_TASKS, args: [String(count), mode], python: python.path, cwd: path.dirname(LIVE_TASKS), stopOnEntry: true });
  const entry = await session.nextEvent('stopped', 60_000);
  const threadId = entry.body.threadId;
  for (let i = 0; i < WARM_UP_STEPS; i++) {
    await session.request('next', { threadId });
    await session.nextEvent('stopped', 60_000);
  }
  return { session, threadId };
}

async function measureOne(python, count, mode, steps, snapshotBudgetMs) {
  const plain = await runPlain(python.path, LIVE_TASKS, [String(count), mode, '60'], path.dirname(LIVE_TASKS));
  const { session, threadId } = await launchLiveTasks(python, count, mode);
  const result = { tasks: count, mode, plainIterationMs: plain.iteration_ms, next: [], inspect: [], snapshot: [] };
  try {
    // The first snapshot doubles as the probe: does the adapter know the request at all?
    const probe = await trySnapshot(session);
    result.snapshotSupported = probe.supported;
    if (probe.error) result.snapshotError = probe.error;
    if (probe.supported) result.snapshot.push(probe.ms);
    let snapshotSpent = probe.ms ?? 0;
    for (let i = 0; i < steps; i++) {
      const sent = performance.now();
      await session.request('next', { threadId });
      const stop = await session.nextEvent('stopped', 60_000);
      result.next.push(stop.receivedAt - sent);
      const stopped = performance.now();
      await session.request('threads', {});
      await session.request('stackTrace', { threadId: stop.body.threadId, startFrame: 0, levels: 20 });
      result.inspect.push(performance.now() - stopped);
      // Snapshots within a time budget, so that a slow one cannot stretch the run by minutes.
      if (result.snapshotSupported && !result.snapshotError && snapshotSpent < snapshotBudgetMs) {
        const snapshot = await trySnapshot(session);
        if (snapshot.supported) {
          result.snapshot.push(snapshot.ms);
          snapshotSpent += snapshot.ms;
        } else {
          result.snapshotError = snapshot.error;
        }
      }
    }
  } finally {
    await session.stop();
  }
  return result;
}

export async function runStepLatency({ pythons, sizes, modes, steps, snapshotBudgetMs, log }) {
  const results = {};
  for (const python of pythons) {
    results[python.label] = [];
    for (const count of sizes) {
      for (const mode of modes) {
        try {
          results[python.label].push(await measureOne(python, count, mode, steps, snapshotBudgetMs));
        } catch (error) {
          log(`  ! step latency ${python.label} ${count} ${mode}: ${error.message.split('\n')[0]}`);
          results[python.label].push({ tasks: count, mode, error: error.message.split('\n')[0], next: [], inspect: [], snapshot: [] });
        }
      }
    }
    log(`  step latency ${python.label} done`);
  }
  return results;
}
