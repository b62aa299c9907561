// Recording's cost alone: plain, Loopscope and Loopscope recording on the workloads that stress
// what is recorded (sleep0, timers), interleaved round by round with the order rotated, CPU time of
// each workload's asyncio part, best of N. A quicker look than the full free-running section.
//   node bench/tools/record_cost.mjs [--python 3.12] [--rounds 5] [--scale 0.5]
import { findPythons } from '../lib/util.mjs';
import { WORKLOADS, runWorkload } from '../sections/free.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const rounds = Number(option('--rounds', '5'));
const scale = Number(option('--scale', '0.5'));
const wanted = option('--python', '3.12');
const python = findPythons().found.find((p) => p.version.startsWith(wanted));
if (!python) throw new Error(`no CPython ${wanted} found`);
const modes = ['plain', 'loopscope', 'record'];
for (const workload of WORKLOADS.filter((w) => ['sleep0', 'timers'].includes(w.id))) {
  const best = Object.fromEntries(modes.map((m) => [m, Infinity]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length];
      const result = await runWorkload(mode, python, workload, scale);
      best[mode] = Math.min(best[mode], result.cpu_seconds);
    }
  }
  console.log(`${workload.id} on ${python.version}: plain ${best.plain.toFixed(3)} s, Loopscope ${best.loopscope.toFixed(3)} s, `
    + `recording ${best.record.toFixed(3)} s; recording over Loopscope ${(best.record / best.loopscope).toFixed(2)}×, `
    + `over plain ${(best.record / best.plain).toFixed(2)}×`);
}
