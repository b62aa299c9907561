// Turns the measurements into tables (for the terminal and for docs/benchmarks.md) and checks them
// against the targets of issue #6, raised on 3.12+ by issue #12, saying for each missed target what
// bounds it.
import { MODES, WORKLOADS } from '../sections/free.mjs';
import { attachTables, attachTarget } from './attachReport.mjs';
import { median, percentile } from './util.mjs';
import { markdownTable, textTable } from './table.mjs';

const LINE_BP_NOTE = 'line breakpoints not implemented yet';

const ms = (v) => {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) < 0.1) return `${(v * 1000).toFixed(1)} µs`;
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
};
const times = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');
const mib = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : 'n/a');
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Median ratio of a mode to plain (wall time, or CPU time with key 'cpu'), and the range of the per-round paired ratios. */
export function ratioOf(cell, plainCell, key = 'seconds') {
  if (!cell || !plainCell) return undefined;
  const r = median(cell[key]) / median(plainCell[key]);
  const paired = cell[key].map((s, i) => s / plainCell[key][i]).filter(Number.isFinite);
  return { ratio: r, low: Math.min(...paired), high: Math.max(...paired), runs: paired.length };
}

function ratioText(ratio, withRange = true) {
  if (!ratio || !Number.isFinite(ratio.ratio)) return 'failed';
  return withRange && ratio.runs > 1 ? `${times(ratio.ratio)} (${ratio.low.toFixed(2)}–${ratio.high.toFixed(2)})` : times(ratio.ratio);
}

/** µs added per handle by a mode on the sleep(0) workload (every handle there is a task step). */
function perHandleMicros(cell, plainCell, key = 'seconds') {
  const steps = plainCell?.results?.find((r) => r?.steps)?.steps;
  if (!cell || !steps) return NaN;
  return ((median(cell[key]) - median(plainCell[key])) / steps) * 1e6;
}

const FREE_MODES = ['loopscope', 'nowatch', 'stats', 'taskbp', 'funcbp', 'record', 'linebp', 'debugpy', 'debugpyLinebp'];
const DEBUGPY_MODES = ['debugpy', 'debugpyLinebp'];

/** The workloads every interpreter of these results ran (results saved before a workload was added lack it). */
function measuredWorkloads(free) {
  return WORKLOADS.filter((workload) => Object.values(free).every((cells) => cells[workload.id]));
}

function freeRatioTable(free, context, key) {
  const labels = Object.keys(free);
  const rows = [];
  for (const workload of measuredWorkloads(free)) {
    const plainRow = [workload.id, key === 'cpu' ? 'plain Python (median CPU time)' : 'plain Python (median time)'];
    for (const label of labels) plainRow.push(ms(median(free[label][workload.id].plain[key]) * 1000));
    rows.push(plainRow);
    for (const mode of FREE_MODES) {
      const row = ['', MODES[mode].title];
      if (mode === 'linebp' && !context.lineBreakpoints.implemented) {
        rows.push([...row, LINE_BP_NOTE, ...labels.slice(1).map(() => '')]);
        continue;
      }
      if (!labels.some((l) => free[l][workload.id][mode]) && !DEBUGPY_MODES.includes(mode) && mode !== 'linebp') continue; // a mode this run did not measure
      if (DEBUGPY_MODES.includes(mode) && !labels.some((l) => free[l][workload.id][mode])) {
        rows.push([...row, 'skipped: debugpy not installed', ...labels.slice(1).map(() => '')]);
        continue;
      }
      for (const label of labels) {
        const cells = free[label][workload.id];
        row.push(cells[mode] ? ratioText(ratioOf(cells[mode], cells.plain, key)) : '—');
      }
      rows.push(row);
    }
  }
  return { headers: ['workload', 'mode', ...labels], rows };
}

function freeTables(free, context) {
  const labels = Object.keys(free);
  const notes = [
    'Ratios are the median workload time of the mode over the median of plain Python on the same interpreter; in brackets the lowest and highest ratio of one round\'s pair (runs interleaved, order rotated each round). — means not run on that interpreter.',
    `Each workload times only its asyncio part (asyncio.run) with time.perf_counter; process and adapter start-up are not in these numbers (see start-up). Runs per cell: ${context.reps}; workload scale ${context.scale}.`,
  ];
  if (!context.lineBreakpoints.implemented) {
    notes.push(`Line breakpoint row: the adapter answers setBreakpoints with verified=false ("${context.lineBreakpoints.message ?? 'no message'}"), so it is not measured yet; it will be as soon as the adapter verifies line breakpoints.`);
  }
  const withDebugpy = context.pythons.filter((p) => p.debugpy && labels.includes(p.label));
  if (withDebugpy.length) {
    notes.push(`debugpy runs where it is installed: ${withDebugpy.map((p) => `${p.debugpy.version} on ${p.label}`).join(', ')}, side by side with plain Python and Loopscope on that same interpreter in the same rounds. It is started as VS Code's Python Debugger extension starts it: its adapter over stdio, a \`launch\` request with \`justMyCode\` and the program's output in the Debug Console, the same line breakpoint as Loopscope's for the line-breakpoint row, \`configurationDone\`.`);
  }
  const wall = { title: 'Free-running overhead: wall time (time.perf_counter), ratio to plain Python', ...freeRatioTable(free, context, 'seconds'), notes };
  const cpu = {
    title: 'Free-running overhead: CPU time of the process (time.process_time), ratio to plain Python',
    ...freeRatioTable(free, context, 'cpu'),
    notes: ['The same runs measured in CPU time (all threads of the program). Other work on this shared machine stretches wall time but hardly CPU time, so these ratios are the steadier ones; the targets are judged on wall time as specified, with CPU time beside it.'],
  };
  const perStep = {
    title: 'Added cost per task step on the sleep(0) workload (µs per handle: (mode − plain) / 200,000 steps, CPU time)',
    headers: ['mode', ...labels],
    rows: FREE_MODES.filter((m) => labels.some((l) => free[l].sleep0[m])).map((mode) => [
      MODES[mode].title,
      ...labels.map((l) => {
        const cells = free[l].sleep0;
        return cells[mode] ? `${perHandleMicros(cells[mode], cells.plain, 'cpu').toFixed(2)} µs` : '—';
      }),
    ]),
    notes: [`For scale: a plain task step costs ${labels.map((l) => `${((median(free[l].sleep0.plain.cpu) / (free[l].sleep0.plain.results.find((r) => r?.steps)?.steps ?? NaN)) * 1e6).toFixed(2)} µs on ${l}`).join(', ')} (CPU time / steps).`],
  };
  return [wall, cpu, perStep];
}

/** Median and p95 of the snapshots taken during a step series, with their count when the time budget cut it short. */
function snapshotCells(r) {
  if (!r.snapshotSupported) return ['n/a', 'n/a'];
  if (r.snapshot.length === 0) return [r.snapshotError ? `failed: ${r.snapshotError}` : 'failed', ''];
  const few = r.snapshot.length < r.next.length ? ` (${r.snapshot.length} taken)` : '';
  return [`${ms(median(r.snapshot))}${few}`, ms(percentile(r.snapshot, 95))];
}

function stepTable(step) {
  const rows = [];
  let snapshotSeen = false;
  for (const [label, list] of Object.entries(step)) {
    for (const r of list) {
      if (r.error) {
        rows.push([label, r.tasks.toLocaleString('en'), r.mode, 'failed', r.error, '', '', '', '', '']);
        continue;
      }
      if (r.snapshotSupported) snapshotSeen = true;
      rows.push([
        label, r.tasks.toLocaleString('en'), r.mode === 'event' ? 'waiting on an Event' : 'looping on sleep(0)', ms(r.plainIterationMs),
        ms(median(r.next)), ms(percentile(r.next, 95)), ms(median(r.inspect)), ms(percentile(r.inspect, 95)),
        ...snapshotCells(r),
      ]);
    }
  }
  const notes = [
    'next→stopped: from sending `next` to receiving its `stopped` event (one loop iteration runs in between). stop→inspect: from that event to complete `threads` and `stackTrace` (levels 20) answers, asked one after the other as VS Code does.',
    '"plain iteration" is the median time of one loop iteration of the same program without Loopscope: a floor under next→stopped, since `next` runs one iteration.',
  ];
  if (!snapshotSeen) notes.push('snapshot: n/a — the adapter does not answer `loopscope/snapshot` yet (issue #3).');
  else notes.push('snapshot: `loopscope/snapshot` with maxTasks 1,000 after each stop, within a time budget per series; "(n taken)" when the budget cut the series short.');
  return {
    title: 'Step latency (DAP next)',
    headers: ['Python', 'live tasks', 'tasks are', 'plain iteration', 'next→stopped median', 'p95', 'stop→inspect median', 'p95', 'snapshot median', 'p95'],
    rows, notes,
  };
}

function memoryTable(memory) {
  const rows = Object.entries(memory).map(([label, cell]) => {
    const plain = median(cell.plain.map((r) => r.vmhwm_kb));
    const ls = median(cell.loopscope.map((r) => r.vmhwm_kb));
    return [label, cell.tasks.toLocaleString('en'), mib(plain), mib(ls), times(ls / plain),
      ms(median(cell.plain.map((r) => r.create_seconds * 1000))), ms(median(cell.loopscope.map((r) => r.create_seconds * 1000)))];
  });
  return {
    title: 'Memory with 100,000 live tasks (peak RSS, VmHWM read by the program)',
    headers: ['Python', 'tasks', 'plain peak RSS', 'Loopscope peak RSS', 'ratio', 'create tasks (plain)', 'create tasks (Loopscope)'],
    rows,
    notes: ['Loopscope through the adapter with no breakpoints; the tasks wait on one Event while 20 loop iterations run, then finish.'],
  };
}

function snapshotTable(snapshots) {
  if (!snapshots?.supported) {
    return { title: 'Snapshot size and time', headers: ['tasks', 'first 1,000 tasks', 'all tasks'], rows: [['10,000', 'n/a', 'n/a'], ['100,000', 'n/a', 'n/a']],
      notes: ['n/a — the adapter does not answer `loopscope/snapshot` yet (issue #3); measured automatically once it does.'] };
  }
  const describe = (list) => {
    const ok = list.filter((s) => s.supported);
    if (ok.length === 0) return list[0]?.error ?? 'failed';
    return `${ms(median(ok.map((s) => s.ms)))}, ${kib(median(ok.map((s) => s.bytes)))}, ${ok[0].tasks.toLocaleString('en')} of ${ok[0].tasksTotal.toLocaleString('en')} tasks`;
  };
  const views = (r, key) => (r.views?.length ? ms(median(r.views.map((v) => v[key]))) : '');
  return {
    title: `Snapshot size and time (${snapshots.python})`,
    headers: ['tasks', 'first 1,000 tasks', 'all tasks', 'stop view data', 'filter', 'group by blocker'],
    rows: snapshots.rows.map((r) => [r.tasks.toLocaleString('en'), r.skipped ?? r.error ?? describe(r.first1000),
      r.skipped || r.error ? '' : r.all.length ? describe(r.all) : 'not taken (the first was too slow)',
      views(r, 'stopView'), views(r, 'filter'), views(r, 'byBlocker')]),
    notes: ['median time from request to response, and the size of the response body as JSON.',
      'stop view data: what the views ask for at a stop (issue #13): `loopscope/snapshot` with maxTasks 0, `loopscope/tasks` for the groups, and the first page (200) of the biggest group, one after the other; filter: `loopscope/tasks` with a filter no task matches (every task looked at); group by blocker: the groups by what each task waits on (issue #16).'],
  };
}

function startupTables(startup, bundles) {
  const rows = Object.entries(startup).map(([label, c]) => [
    label, ms(median(c.pass)), ms(median(c.plainProgram)), ms(median(c.launchToEntry)),
    ms(median(c.launchToEntry) - median(c.pass)), ms(median(c.launchToEntry) - median(c.plainProgram)), ms(median(c.spawnToEntry)),
  ]);
  return [{
    title: 'Start-up (medians)',
    headers: ['Python', 'python -c pass', 'plain asyncio program', 'launch→entry stop', 'over -c pass', 'over plain program', 'adapter spawn→entry'],
    rows,
    notes: ['`python -c pass` and the plain program (import asyncio, asyncio.run(sleep(0))) are timed from spawn to exit; launch→entry from sending `launch` (adapter already initialized) to the `entry` stop, which includes starting Python, importing asyncio and the runtime, connecting back, and the configuration sequence.'],
  }, {
    title: 'Bundle sizes',
    headers: ['bundle', 'size', 'gzip'],
    rows: bundles.map((b) => [b.file, kib(b.bytes), kib(b.gzip)]),
    notes: [],
  }];
}

// --- targets -------------------------------------------------------------------------------------

function worst(entries) {
  return entries.filter((e) => Number.isFinite(e.value)).sort((a, b) => b.value - a.value)[0];
}

function freeRatios(free, mode, key = 'seconds', base = 'plain') {
  const out = [];
  for (const [label, byWorkload] of Object.entries(free)) {
    for (const [workload, cells] of Object.entries(byWorkload)) {
      if (!cells[mode] || !cells[base]) continue;
      const r = ratioOf(cells[mode], cells[base], key);
      out.push({ label, workload, value: r?.ratio, range: r });
    }
  }
  return out;
}

function overList(entries, limitOf) {
  return entries.filter((e) => e.value > limitOf(e.label)).map((e) => `${e.workload} on ${e.label} ${times(e.value)}`).join(', ');
}

const minorOf = (label) => Number(/3\.(\d+)/.exec(label)?.[1]);
/** A limit for 3.12+ (issue #12) and one for older Pythons (issue #6). */
const limits = (from312, before) => (label) => (minorOf(label) >= 12 ? from312 : before);

/** Entries split where the targets change: 'before 3.12' and '3.12+', each with its worst entry. */
function worstPerEra(entries) {
  const eras = [['before 3.12', (e) => minorOf(e.label) < 12], ['3.12+', (e) => minorOf(e.label) >= 12]];
  return eras.map(([era, within]) => ({ era, worst: worst(entries.filter(within)) })).filter((e) => e.worst);
}

/** One free-running target, judged on wall time, with CPU time beside it; ratios to plain Python, or to another mode. */
function freeTarget(free, mode, target, limitOf, mechanism, base = 'plain') {
  const wall = freeRatios(free, mode, 'seconds', base);
  const cpu = freeRatios(free, mode, 'cpu', base);
  if (!worst(wall)) return { target, measured: 'n/a', met: undefined, bound: '' };
  const overWall = overList(wall, limitOf);
  const overCpu = overList(cpu, limitOf);
  const worstText = (entries) => worstPerEra(entries)
    .map(({ era, worst: w }) => `${era} ${times(w.value)} (${w.workload}, ${w.label})`).join(', ');
  let bound = '';
  if (overWall || overCpu) {
    const perStep = Object.entries(free).filter(([, cells]) => cells.sleep0[mode])
      .map(([l, cells]) => `${perHandleMicros(cells.sleep0[mode], cells.sleep0[base], 'cpu').toFixed(2)} µs on ${l}`).join(', ');
    bound = overCpu
      ? `Over the target in CPU time: ${overCpu}${overWall ? `; in wall time: ${overWall}` : ''}. ${mechanism} Added CPU time per task step on sleep(0): ${perStep}.`
      : `Over in wall time only (${overWall}); in CPU time every cell meets the target (worst ${worstText(cpu)}), so the misses are contention from other work on this shared machine, not Loopscope.`;
  }
  return {
    target,
    measured: `wall: worst ${worstText(wall)}, median of cells ${times(median(wall.map((e) => e.value)))}; CPU: worst ${worstText(cpu)}`,
    met: !overWall,
    bound,
  };
}

const LINE_BP_TARGET = 'Line breakpoint in a file that never runs ≤ 1.05× on 3.12+, ≤ 2× before';
const VERSUS_DEBUGPY_TARGET = 'Line breakpoint in a file that never runs below debugpy\'s ratio on 3.12+ (same interpreter, same run)';

/**
 * Loopscope's line-breakpoint ratio against debugpy's, per workload, on each 3.12+ interpreter where
 * both ran: judged on wall time like the other free-running targets, with CPU time beside it.
 */
function versusDebugpy(free) {
  const pairs = [];
  for (const [label, byWorkload] of Object.entries(free)) {
    if (minorOf(label) < 12) continue;
    for (const [workload, cells] of Object.entries(byWorkload)) {
      if (!cells.linebp || !cells.debugpyLinebp) continue;
      const of = (mode, key) => ratioOf(cells[mode], cells.plain, key)?.ratio;
      pairs.push({ label, workload, wall: [of('linebp', 'seconds'), of('debugpyLinebp', 'seconds')], cpu: [of('linebp', 'cpu'), of('debugpyLinebp', 'cpu')] });
    }
  }
  const measurable = pairs.filter((p) => p.wall.every(Number.isFinite));
  if (!measurable.length) {
    return { target: VERSUS_DEBUGPY_TARGET, measured: 'n/a (debugpy did not run on a 3.12+ interpreter)', met: undefined, bound: '' };
  }
  const describe = (list, key) => list.map((p) => `${p.workload} ${times(p[key][0])} vs ${times(p[key][1])}`).join(', ');
  const notBelow = (key) => measurable.filter((p) => !(p[key][0] < p[key][1]));
  const byLabel = [...new Set(measurable.map((p) => p.label))]
    .map((label) => `${label}: ${describe(measurable.filter((p) => p.label === label), 'wall')}`).join('; ');
  const [wallMisses, cpuMisses] = [notBelow('wall'), notBelow('cpu')];
  let bound = '';
  if (wallMisses.length) {
    bound = cpuMisses.length
      ? `Not below debugpy in CPU time either: ${describe(cpuMisses, 'cpu')} (Loopscope vs debugpy). See "Analysis" below.`
      : `Not below in wall time only (${describe(wallMisses, 'wall')}); in CPU time Loopscope is below debugpy on every workload (${describe(measurable, 'cpu')}), so the misses are contention on this shared machine.`;
  }
  return {
    target: VERSUS_DEBUGPY_TARGET,
    measured: `wall, Loopscope vs debugpy: ${byLabel}`,
    met: wallMisses.length === 0,
    bound,
  };
}

export function evaluateTargets(results, context) {
  const targets = [];
  const { free, step, memory, snapshots, startup } = results;
  if (free) {
    targets.push(freeTarget(free, 'loopscope', 'Free-running, no breakpoints ≤ 1.05× on 3.12+, ≤ 1.10× before', limits(1.05, 1.10),
      'With nothing watched the runtime adds a Python-level `_run_once` wrapper per loop iteration (dict lookup, flag tests, and the idle check of issue #16), the loop statistics of issue #17 (three clock readings and a wrapper of _process_events per iteration, loopstats.py; a watchdog thread that looks at every loop a few dozen times a second; the ready queue sampled every 10 ms), a `create_task` wrapper per task (its creator, a dropped result), and with trackOwners one Python call per use of an asyncio Lock, Semaphore, Event or Queue (the locks workload); Handle._run stays the original, so a per-step cost here is not from the per-handle hook.'));
    // Runs from before loop health (issue #17) have no 'nowatch' cells: this target is n/a for them.
    const health = Object.values(free).some((byWorkload) => Object.values(byWorkload).some((cells) => cells.nowatch));
    if (health) targets.push(freeTarget(free, 'loopscope', 'Blocked-loop detection ≤ 1.02× on top', () => 1.02,
      'The watchdog thread (blockedloop.py) wakes every 20 ms and takes the GIL from the busy loop thread for a few microseconds; the ratio is Loopscope with detection on (the default) over Loopscope with loopBlockedWarnings false, run side by side.', 'nowatch'));
    targets.push(freeTarget(free, 'taskbp', 'Never-matching task breakpoint ≤ 1.10× on 3.12+, ≤ 1.25× before', limits(1.10, 1.25),
      'Function breakpoints alone swap in a light per-handle hook (instrument._handle_run_task_steps): a plain callback passes through after a type test; a task step pays a Python frame and a lookup of the task\'s name. Before 3.12 it also pays frames.task_matches, a walk of the task\'s await chain comparing names (three levels for `await asyncio.sleep(0)`, 0.6–1.2 µs); from 3.12 only tasks marked through sys.monitoring are walked (runtime/loopscope/taskmarks.py). A plain task step costs about 1.5–3 µs, so on code that does nothing but switch tasks the walk alone is +30–60%. See "Analysis" below.'));
    if (Object.values(free).some((cells) => Object.values(cells).some((cell) => cell.record))) {
      // Recording's own cost: a recording session over the same session not recording, side by side.
      targets.push(freeTarget(free, 'record', 'Recording the schedule (`"record"`) ≤ 1.25× over Loopscope running freely, on every interpreter', limits(1.25, 1.25),
        'A recording loop codes its ready queue once per iteration (handlecodes.py: a C-speed map over the deque for known tasks, one dotted attrgetter per handle), appends every loop-clock reading to an array, and wraps the selector and the sockets it connects, accepts or makes datagram endpoints on; nothing runs per handle. Chunks go to disk every 4,096 iterations, their numbers packed and zlib at its fastest level. See docs/timetravel.md.', 'loopscope'));
    }
    if (context.lineBreakpoints.implemented) {
      targets.push(freeTarget(free, 'linebp', LINE_BP_TARGET, limits(1.05, 2),
        'Before 3.12 a line breakpoint needs sys.settrace, whose `call` event on every coroutine resumed costs several µs per task step whatever the trace function returns. From 3.12 sys.monitoring PY_START and PY_RESUME events find the code of the breakpoint\'s file, and only that code gets LINE events; every other code location costs one event the first time it runs (and again after each change of breakpoints, or a step). See "Analysis" below.'));
      targets.push(versusDebugpy(free));
    } else {
      for (const target of [LINE_BP_TARGET, VERSUS_DEBUGPY_TARGET]) {
        targets.push({ target, measured: LINE_BP_NOTE, met: undefined,
          bound: 'Not measurable yet: the adapter answers every line breakpoint unverified. For scale, the same case under debugpy is in the free-running table.' });
      }
    }
  }
  if (step) {
    const at1000 = Object.entries(step).flatMap(([label, list]) => list.filter((r) => r.tasks === 1000 && !r.error).map((r) => ({ label, ...r })));
    const idle = at1000.filter((r) => r.mode === 'event');
    const busy = at1000.filter((r) => r.mode === 'spin');
    const wIdle = worst(idle.map((r) => ({ label: r.label, value: median(r.next) })));
    const wBusy = worst(busy.map((r) => ({ label: r.label, value: median(r.next), plain: r.plainIterationMs })));
    const busyPlain = busy.map((r) => `${ms(r.plainIterationMs)} on ${r.label}`).join(', ');
    targets.push({
      target: 'Step latency median ≤ 5 ms at 1,000 tasks',
      measured: `idle tasks: worst ${wIdle ? ms(wIdle.value) : 'n/a'}${wIdle ? ` (${wIdle.label})` : ''}; busy tasks: worst ${wBusy ? ms(wBusy.value) : 'n/a'}${wBusy ? ` (${wBusy.label})` : ''}`,
      met: wIdle ? wIdle.value <= 5 && (!wBusy || wBusy.value <= 5) : undefined,
      bound: (wIdle && wIdle.value > 5) || (wBusy && wBusy.value > 5)
        ? `With 1,000 tasks all runnable, \`next\` must run one whole iteration of 1,001 handles, which alone takes ${busyPlain} plain (the "plain iteration" column); the rest is Loopscope's: the hook that logs each handle for the Task Switches view (about 1 µs a handle), the output drain before the stop, and the round trip client → adapter → runtime → adapter → client. See "Analysis" below.`
        : '',
    });
  }
  if (snapshots) {
    const row = snapshots.supported ? snapshots.rows?.find((r) => r.tasks === 10000) : undefined;
    const samples = row?.first1000?.filter((s) => s.supported) ?? [];
    const value = samples.length ? median(samples.map((s) => s.ms)) : NaN;
    const failed = row && !samples.length ? row.skipped ?? row.error ?? row.first1000?.[0]?.error ?? 'failed' : undefined;
    targets.push({
      target: 'Snapshot ≤ 100 ms for the first 1,000 of 10,000 tasks',
      measured: !snapshots.supported ? 'n/a (no `loopscope/snapshot` request yet, issue #3)'
        : failed ? failed : `${ms(value)} (${kib(median(samples.map((s) => s.bytes)))})`,
      met: snapshots.supported ? Number.isFinite(value) && value <= 100 : undefined,
      bound: snapshots.supported && !(value <= 100)
        ? 'The snapshot is built in Python on the held loop\'s thread, and part of its work grows with every pending task, not only the 1,000 listed (the await graph, deadlock search, futures). Profile it without the adapter with `python bench/tools/snapshot_profile.py --tasks 10000 --profile`; see "Analysis" below.'
        : '',
    });
  }
  if (snapshots?.supported) {
    const row = snapshots.rows?.find((r) => r.tasks === 100000 && r.views?.length);
    const at = (key) => (row ? median(row.views.map((v) => v[key])) : NaN);
    for (const [key, limit, name] of [['stopView', 100, 'A stop\'s view data'], ['filter', 200, 'A task filter']]) {
      const value = at(key);
      targets.push({
        target: `${name} ≤ ${limit} ms at 100,000 tasks (issue #13)`,
        measured: row ? ms(value) : 'not measured (the 100,000-task size did not run; the quick pass stops at 10,000)',
        met: row ? value <= limit : undefined,
        bound: row && !(value <= limit)
          ? 'The runtime reads each task\'s state (and, for a filter, its name, coroutine and resume place) once per stop, in Python, on the held loop\'s thread: a few µs a task.'
          : '',
      });
    }
  }
  if (memory) {
    const entries = Object.entries(memory).map(([label, c]) => ({
      label, value: median(c.loopscope.map((r) => r.vmhwm_kb)) / median(c.plain.map((r) => r.vmhwm_kb)),
    }));
    const w = worst(entries);
    targets.push({
      target: 'Memory ≤ 1.3× with 100,000 tasks',
      measured: w ? `worst ${times(w.value)} (${w.label})` : 'n/a',
      met: w ? w.value <= 1.3 : undefined,
      bound: w && w.value > 1.3 ? 'Loopscope keeps per-task state; see the memory table.' : '',
    });
  }
  if (startup) {
    const entries = Object.entries(startup).map(([label, c]) => ({
      label, value: median(c.launchToEntry) - median(c.pass), program: median(c.launchToEntry) - median(c.plainProgram),
    }));
    const w = worst(entries);
    targets.push({
      target: 'Start-up ≤ 300 ms over plain',
      measured: w ? `worst ${ms(w.value)} over \`python -c pass\` (${w.label}); ${ms(w.program)} over the plain asyncio program` : 'n/a',
      met: w ? w.value <= 300 : undefined,
      bound: w && w.value > 300 ? 'launch→entry covers spawning Python, importing asyncio and the runtime, connecting back with the token and the configuration round trips.' : '',
    });
  }
  if (results.attach) targets.push(attachTarget(results.attach));
  return targets;
}

function targetTable(targets) {
  return {
    title: 'Targets (issue #6, raised on 3.12+ by issue #12)',
    headers: ['target', 'measured', 'met?'],
    rows: targets.map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'met' : 'MISSED']),
    notes: targets.filter((t) => t.bound).map((t) => `${t.target}: ${t.bound}`),
  };
}

/** Every table of the run, in order, for the terminal. */
export function allTables(results, context) {
  const tables = [];
  if (results.free) tables.push(...freeTables(results.free, context));
  if (results.step) tables.push(stepTable(results.step));
  if (results.memory) tables.push(memoryTable(results.memory));
  if (results.snapshots) tables.push(snapshotTable(results.snapshots));
  if (results.startup) tables.push(...startupTables(results.startup, results.bundles));
  if (results.attach) tables.push(...attachTables(results.attach));
  tables.push(targetTable(evaluateTargets(results, context)));
  return tables;
}

export function renderText(results, context) {
  return allTables(results, context).map(textTable).join('\n\n');
}

function mdSection(table) {
  const notes = table.notes?.length ? `\n\n${table.notes.map((n) => `- ${n}`).join('\n')}` : '';
  return `### ${table.title}\n\n${markdownTable(table)}${notes}`;
}

export function renderMarkdown(results, context, extra) {
  const { machine, pythons, notes, git, startedAt, durationS, quick, reps, scale } = context;
  const targets = evaluateTargets(results, context);
  const lines = [];
  lines.push('# Benchmarks', '');
  lines.push(`Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/run.mjs) on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, `
    + `a ${quick ? 'quick' : 'full'} pass of ${durationS.toFixed(0)} s: ${reps} runs per cell, workload scale ${scale}. `
    + 'Numbers are this run\'s; rerun to refresh this file. Never used as a test: nothing here asserts a time.', '');
  lines.push('## Machine', '');
  lines.push(`- ${machine.nproc} cores (nproc), ${machine.cpu}, ${machine.memory} memory; ${machine.kernel}; Node ${machine.node}`);
  const debianNote = pythons.some((p) => p.origin === 'Debian') ? ' (Debian: Debian\'s builds, which `npm run pythons` unpacks into pyenv\'s versions folder)' : '';
  lines.push(`- CPythons: ${pythons.map((p) => p.label).join(', ')}${debianNote}`);
  for (const p of pythons.filter((q) => q.debugpy)) {
    lines.push(`- debugpy ${p.debugpy.version}${p.origin === 'Debian' ? ' (Debian\'s python3-debugpy)' : ''} on ${p.label}`);
  }
  for (const note of notes) lines.push(`- ${note}`);
  const describeGit = (g) => `commit ${g.commit}${g.dirty.length ? `, with uncommitted changes in ${g.dirty.join(', ')}` : ''}`;
  lines.push(`- Loopscope at ${describeGit(git)}`);
  if (context.gitAtStart && describeGit(context.gitAtStart) !== describeGit(git)) {
    lines.push(`- **The runtime or adapter changed during the run** (at the start: ${describeGit(context.gitAtStart)}): rows measured early and late may come from different code.`);
  }
  if (context.load) {
    const busy = context.load.median > machine.nproc / 2;
    lines.push(`- 1-minute load average during the run: median ${context.load.median.toFixed(1)} (${context.load.min.toFixed(1)}–${context.load.max.toFixed(1)}) on ${machine.nproc} cores${busy ? ': other work was competing for the CPU, so wall times are stretched at random; the CPU-time ratios are the steadier ones' : ''}.`);
  }
  lines.push('- The machine is shared and noisy: compare ratios taken side by side, not absolute times across runs.', '');
  lines.push('## Targets', '');
  lines.push('The targets of issue #6; issue #12 raised those of free-running on 3.12+ and added the comparison with debugpy on the same interpreter. Judged on this run\'s wall-time ratios: a target is met when every measured cell meets it.', '');
  lines.push(markdownTable({
    headers: ['target', 'measured', 'met?', 'what bounds it'],
    rows: targets.map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'met' : '**missed**', t.bound || '']),
  }), '');
  lines.push('## Results', '');
  for (const table of allTables(results, context).slice(0, -1)) lines.push(mdSection(table), '');
  if (extra) lines.push(extra.trim(), '');
  lines.push('## How it is measured', '');
  lines.push(METHOD.trim(), '');
  return lines.join('\n');
}

const METHOD = `
- \`npm run bench\` (= \`node bench/run.mjs\`) runs everything in 15–20 minutes on six interpreters (861 s for the run of 2026-11-30, under load); \`--quick\` is a short pass (3 runs, half-size workloads, one interpreter: the newest with debugpy, else the newest; snapshots at 10,000 tasks only) that writes \`bench/results/quick.md\` instead of this file. \`--python 3.12\` picks interpreters, \`--only free,step,scale,startup\` picks sections, \`--no-write\` only prints. Rounds and sizes are set in one place, \`plan()\` in bench/run.mjs. dist/ is rebuilt first when it is missing or older than extension/ (\`--build\` forces it). Raw numbers go to \`bench/results/full.json\`, committed with this file (\`--from-json\` renders it again), and \`bench/results/quick.json\`, not committed.
- Interpreters: for each minor version chosen in \`benchMinors()\` (bench/lib/util.mjs: the oldest supported, 3.11, and every one from 3.12 to the newest; the supported range comes from runtime/loopscope/protocol.json), the newest build in pyenv's versions folder. Each is named by its origin and version: "Debian" when its folder holds the marker \`npm run pythons\` leaves or it has Debian's layout (\`<prefix>/lib/python3/dist-packages\`), else "pyenv".
- Free-running: the programs in \`bench/workloads/\` time their own \`asyncio.run(...)\` with \`time.perf_counter\` (and \`time.process_time\`) and print one \`LOOPSCOPE_BENCH {json}\` line. Loopscope runs go through the bundled adapter (\`node dist/debugAdapter.js\`) driven by \`DebugClient\` from @vscode/debugadapter-testsupport, as a user's launch without \`stopOnEntry\`; the task breakpoint is \`setFunctionBreakpoints\` with the name \`no_such_task\`; the line breakpoint is \`setBreakpoints\` on the marked line of \`bench/fixtures/never_runs.py\`, which nothing imports. debugpy runs wherever it can be imported, on the same interpreter as plain and Loopscope, in the same rounds: its adapter spawned as \`python DEBUGPY_DIR/adapter\` over stdio (as VS Code's Python Debugger extension does), \`initialize\`, \`launch\` (\`justMyCode: true\`, \`console: internalConsole\`), the same \`setBreakpoints\` for its line-breakpoint row, \`configurationDone\`. \`LOOPSCOPE_CHECK_PROTOCOL\` and \`PYTHONPATH\` are removed from every environment.
- Step latency and snapshots use \`bench/fixtures/live_tasks.py\` (N tasks waiting on an Event or looping on \`sleep(0)\`, launched with \`stopOnEntry\`, four \`next\`s of warm-up past task creation). A snapshot that would pass its 60 s limit is not waited for. Memory: the same fixture with 100,000 waiting tasks reads its own \`VmHWM\` from /proc/self/status at the end.
- The test client's message reader is replaced by a linear one (DebugClient's re-concatenates its buffer on every chunk), so big responses time the adapter and runtime rather than the client.
- Tools to find out why, without the adapter: \`python bench/tools/hook_profile.py --mode plain|hooks|taskbp|linebp [--profile] [--runtime DIR] WORKLOAD\` runs a workload in-process with the hooks configured as a session would; \`python bench/tools/snapshot_profile.py --tasks N [--profile] [--runtime DIR]\` times one snapshot of a loop with N tasks. \`--runtime\` points at another copy of the runtime, to measure a candidate change side by side.
`;
