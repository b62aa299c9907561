// The attach section's tables (bench/sections/attach.mjs) and its target: the time from the attach
// request to the first Asyncio Tasks view per case and interpreter, and the program's own CPU time
// per round of work before an attach and after ten attach/detach cycles.
import { ATTACH_CASES, quiet } from '../sections/attach.mjs';
import { median } from './util.mjs';
/** Beyond this drift of the control process the machine changed too much for a 2% verdict. */
const TRUSTED_DRIFT = 0.03;

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`) : 'n/a');
const times = (v) => (Number.isFinite(v) ? `${v.toFixed(3)}×` : 'n/a');

/** A window's ratio to the rounds before the first attach, the control process's drift over the same windows taken out. */
const ratio = (d, window) => (quiet(window.program) / quiet(d.before.program)) / (quiet(window.control) / quiet(d.before.control));
const drift = (d) => quiet(d.afterLast.control) / quiet(d.before.control);

/** After the first and the tenth detach, each interpreter's ratio of CPU time per round. */
function detachRatios(attach) {
  return Object.entries(attach.detach).filter(([, d]) => !d.error)
    .map(([label, d]) => ({ label, first: ratio(d, d.afterFirst), last: ratio(d, d.afterLast), d }));
}

function mostCommon(values) {
  const counts = new Map();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '?';
}

export function attachTables(attach) {
  const labels = Object.keys(attach.times);
  const cell = (c) => (!c ? 'not measured' : c.viewMs.length
    ? `${ms(median(c.viewMs))} · ${mostCommon(c.methods ?? [])}${c.errors.length ? ` (${c.errors.length} failed)` : ''}`
    : c.errors[0]?.startsWith('not possible') ? 'n/a (3.8)' : `failed: ${c.errors[0] ?? '?'}`);
  return [{
    title: `Attach: from the attach request to the first Asyncio Tasks view (medians; measured ${attach.when.slice(0, 16).replace('T', ' ')} UTC, load ${attach.load.toFixed(1)})`,
    headers: ['program', ...labels],
    rows: ATTACH_CASES.map((kase) => [kase.label, ...labels.map((label) => cell(attach.times[label][kase.key]))]),
    notes: [
      'How the ticket went in follows each time: sys.remote_exec, or gdb calling it directly on the main thread or queuing it as a pending call. From sending DAP `attach {processId}` to the `loopscope/snapshot` answer that the Asyncio Tasks view asks for at the stop: the /proc checks, the helper (sys.remote_exec and a ptrace kick from 3.14; gdb before, and on 3.14+ when the main thread waits in join()), the runtime importing itself and connecting, the configuration sequence, every loop held (a busy callback is stopped inside its code after 50 ms), and the snapshot.',
      'Python 3.8 cannot stop a busy loop on a thread other than the main one: there the other loops are held and the busy one is reported running.',
    ],
  }, {
    title: 'Attach: the program after detaching (CPU time per round of work, 10th percentile)',
    headers: ['Python', 'before the first attach', 'after 1 detach', 'after 10 detaches', 'ratio after 1', 'ratio after 10', 'control drift', 'attach+detach cycle'],
    rows: detachRatios(attach).map(({ label, first, last, d }) => [
      label, ms(quiet(d.before.program) * 1000), ms(quiet(d.afterFirst.program) * 1000), ms(quiet(d.afterLast.program) * 1000),
      times(first), times(last), times(drift(d)), ms(median(d.attachMs)),
    ]),
    notes: ['bench/fixtures/rounds.py runs rounds of the sleep0 workload (100 tasks × 100 `sleep(0)`) for ever and prints each round\'s CPU time. the rounds before the first attach are compared with as many after the first and after the tenth detach (100 each in a full pass), in the same process; a second copy that nobody attaches to runs beside it, and its own change over the same windows (control drift: the shared machine) is divided out of the ratios. Each window is read at its 10th percentile, the rounds least disturbed by the machine\'s other work; a drift beyond ±3% makes the run inconclusive.'],
  }];
}

export function attachTarget(attach) {
  const ratios = detachRatios(attach);
  const worst = ratios.sort((a, b) => b.last - a.last)[0];
  const unsteady = ratios.filter((r) => Math.abs(drift(r.d) - 1) > TRUSTED_DRIFT);
  return {
    target: 'Free-running after detach ≤ 1.02×',
    measured: worst ? `worst ${times(worst.last)} after 10 attach/detach cycles (${worst.label}); median of interpreters ${times(median(ratios.map((r) => r.last)))}` : 'n/a',
    met: !worst || unsteady.length ? undefined : worst.last <= 1.02,
    bound: unsteady.length
      ? `Inconclusive: the control process drifted ${unsteady.map((r) => `${times(drift(r.d))} (${r.label})`).join(', ')} over the same windows; measure again on a quieter machine.`
      : worst && worst.last > 1.02 ? 'Rounds on a shared machine vary by a few percent from one to the next; see the table.' : '',
  };
}
