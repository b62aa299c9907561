// How long Step Back takes (docs/timetravel.md): a recorded session of bench/fixtures/iterations.py
// stops after N iterations at a line breakpoint, then steps back one iteration, which re-runs the
// program from its start under replay. Prints the median of a few tries per N, through the
// bundled adapter as VS Code would drive it.
//
//   node bench/tools/step_back_latency.mjs [--python PATH] [N ...]     (default N: 1000 100000)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoopscopeSession, ROOT } from '../lib/dap.mjs';

const PROGRAM = path.join(ROOT, 'bench', 'fixtures', 'iterations.py');
const LINE = readFileSync(PROGRAM, 'utf8').split('\n').findIndex((l) => /#.*@after\b/.test(l)) + 1;
const TRIES = 3;

async function once(python, n, dir) {
  const session = new LoopscopeSession();
  try {
    await session.start();
    const started = Date.now();
    await session.launch({ program: PROGRAM, args: [String(n)], python, record: path.join(dir, `${n}.lsrec`) },
      (s) => s.request('setBreakpoints', { source: { path: PROGRAM }, breakpoints: [{ line: LINE }] }));
    const stop = await session.nextEvent('stopped', 600_000);
    const recorded = Date.now() - started;
    const back = Date.now();
    await session.request('stepBack', { threadId: stop.body.threadId }, 600_000);
    const arrived = await session.nextEvent('stopped', 600_000);
    return { recorded, back: Date.now() - back, iteration: arrived.body.loopscope.iteration };
  } finally {
    await session.stop();
  }
}

const argv = process.argv.slice(2);
let python = 'python3';
const sizes = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--python') python = argv[++i];
  else sizes.push(Number(argv[i]));
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-stepback-'));
try {
  for (const n of sizes.length ? sizes : [1000, 100000]) {
    const results = [];
    for (let t = 0; t < TRIES; t++) results.push(await once(python, n, dir));
    const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(`${n} iterations: recorded run to the breakpoint ${median(results.map((r) => r.recorded))} ms; `
      + `step back (re-run to iteration ${results[0].iteration}) ${median(results.map((r) => r.back))} ms (median of ${TRIES})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
