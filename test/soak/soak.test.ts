// The soak test (`npm run test:soak`): 10,000 live tasks and a million task switches
// (test/fixtures/soak.py), a stop about every 1,000 loop iterations with a snapshot at each, under
// the real adapter. Memory must stay flat in the runtime (bounded history, weak references to
// tasks) and in the adapter, whose heap is capped so that a leak ends it; no Task object may
// outlive the program. Prints the figures. LOOPSCOPE_SOAK_STOP_EVERY=100 makes ten times the stops.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LoopSnapshot } from '../../extension/adapter/protocol';
import { fixture, PYTHON, Session } from '../adapter/harness';

const PROGRAM = fixture('soak.py');
const STOP_EVERY = Number(process.env.LOOPSCOPE_SOAK_STOP_EVERY || 100);
/** The adapter's V8 heap limit: a few snapshots of 1,000 tasks fit; keeping one per stop does not. */
const ADAPTER_HEAP_MIB = 32;
/** How many objects the runtime's id table holds. The program cannot import Loopscope's modules (they are
 * lent to it only where its own sys.path would find them), so the table is reached through the finder
 * that keeps them. */
const KNOWN_OBJECTS = "len(next(f for f in __import__('sys').meta_path if type(f).__name__ == 'LentModules')"
  + "._lent['loopscope.registry']._info)";

/** Resident memory of a process in MiB, from /proc. */
function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

interface Figures { stop: number; iteration: number; liveTasks: number; futuresListed: number; knownObjects: number; runtimeMiB: number; adapterMiB: number; snapshotMs: number; listed: number }

describe('soak', () => {
  it('10,000 tasks and a million task switches: memory stays flat, no task outlives the program', async () => {
    const session = new Session({ NODE_OPTIONS: `--max-old-space-size=${ADAPTER_HEAP_MIB}` });
    await session.start();
    const adapterPid = (session.client as unknown as { _adapterProcess: { pid: number } })._adapterProcess.pid;
    const figures: Figures[] = [];
    try {
      await session.launch({ program: PROGRAM, python: PYTHON }, () =>
        session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ticker', hitCondition: `% ${STOP_EVERY}` }] }));
      const programPid = (await session.next('process')).body.systemProcessId as number;
      const exited = session.next('exited', 300_000);
      for (;;) {
        const next = await Promise.race([session.nextStop(300_000), exited]);
        if (next.event === 'exited') {
          assert.equal(next.body.exitCode, 0);
          break;
        }
        const threadId = next.body.threadId as number;
        const started = Date.now();
        const { body } = await session.client.customRequest('loopscope/snapshot', {}) as { body: { loops: LoopSnapshot[] } };
        const snapshotMs = Date.now() - started;
        const evaluate = async (expression: string) =>
          Number((await session.client.evaluateRequest({ expression, context: 'repl' })).body.result);
        figures.push({
          stop: figures.length + 1,
          iteration: body.loops[0].iteration,
          liveTasks: body.loops[0].tasksTotal,
          futuresListed: body.loops[0].futures.length,
          knownObjects: await evaluate(KNOWN_OBJECTS),
          runtimeMiB: residentMiB(programPid),
          adapterMiB: residentMiB(adapterPid),
          snapshotMs,
          listed: body.loops[0].tasks.length,
        });
        await session.client.continueRequest({ threadId });
      }
    } finally {
      await session.stop();
    }
    console.table(figures.map((f) => ({ ...f, runtimeMiB: f.runtimeMiB.toFixed(1), adapterMiB: f.adapterMiB.toFixed(1) })));

    const output = session.text('stdout');
    assert.match(output, /workers 100, helpers 10000, ticks \d+\n/);
    assert.match(output, /tasks alive after the run: 0\n/, 'a Task object outlived the program');
    assert.ok(figures.length >= 8, `about ten stops, one per ${STOP_EVERY} iterations: ${figures.length}`);
    for (const f of figures) {
      assert.ok(f.liveTasks >= 10_000, `stop ${f.stop}: ${f.liveTasks} live tasks`);
      // Loopscope's id table (registry._info) holds tasks and futures weakly: the live ones it has seen, not every one ever made.
      // (Plus the future each listed task awaits, which its row names with an id since the views
      // say what a task waits on, and up to 100 finished workers that the gather awaiting them holds.)
      assert.ok(f.knownObjects <= f.liveTasks + f.listed + f.futuresListed + 110,
        `stop ${f.stop}: ${f.knownObjects} objects have ids, for ${f.liveTasks} live tasks, ${f.listed} listed and ${f.futuresListed} futures listed`);
    }
    // Flat: from the second stop (after warm-up) to the last, memory grows by no more than noise.
    const [second, last] = [figures[1], figures[figures.length - 1]];
    assert.ok(last.runtimeMiB <= second.runtimeMiB * 1.1 + 2, `runtime ${second.runtimeMiB.toFixed(1)} → ${last.runtimeMiB.toFixed(1)} MiB`);
    // The adapter's heap cap is the real check (a leak ends it before the program ends); its resident
    // size follows V8's heap sizing, so only a gross rise is refused here.
    assert.ok(last.adapterMiB <= second.adapterMiB + 40, `adapter ${second.adapterMiB.toFixed(1)} → ${last.adapterMiB.toFixed(1)} MiB`);
  });
});
