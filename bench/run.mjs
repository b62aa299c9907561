// Loopscope's benchmark suite (issues #6 and #12): free-running overhead, step latency, scale and
// start-up, measured through the bundled debug adapter as a user's session would run, against plain
// Python and debugpy (where it is installed) on the same interpreter. Prints tables and writes
// docs/benchmarks.md (a --quick pass writes bench/results/quick.md instead). A benchmark, not a test:
// nothing here fails on a slow number.
//
//   node bench/run.mjs [--quick] [--python 3.12[,3.8]] [--only free,step,scale,startup,attach] [--out FILE] [--no-write] [--build]
//   node bench/run.mjs --only attach --merge   (measure one section; the others come from bench/results/full.json)
//   node bench/run.mjs --from-json bench/results/full.json   (render the tables and the doc again, e.g. after editing bench/analysis.md)
// dist/ is rebuilt first when it is missing or older than extension/ (or with --build).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADAPTER, ROOT } from './lib/dap.mjs';
import { renderMarkdown, renderText } from './lib/report.mjs';
import { findPythons, gitState, machineInfo, median } from './lib/util.mjs';
import { modesFor, probeLineBreakpoints, runFreeRunning } from './sections/free.mjs';
import { runMemory, runSnapshots } from './sections/scale.mjs';
import { runStepLatency } from './sections/step.mjs';
import { bundleSizes, runStartup } from './sections/startup.mjs';
import { runAttach } from './sections/attach.mjs';

const SECTIONS = ['free', 'step', 'scale', 'startup', 'attach'];

function parseArgs(argv) {
  const options = { quick: false, pythons: undefined, only: SECTIONS, out: undefined, write: true, build: false, merge: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--python') options.pythons = value().split(',');
    else if (arg === '--only') options.only = value().split(',');
    else if (arg === '--out') options.out = value();
    else if (arg === '--no-write') options.write = false;
    else if (arg === '--build') options.build = true;
    else if (arg === '--merge') options.merge = true;
    else if (arg === '--from-json') options.fromJson = value();
    else if (arg === '-h' || arg === '--help') {
      console.log('usage: node bench/run.mjs [--quick] [--python 3.12[,3.8]] [--only free,step,scale,startup,attach] [--merge] [--out FILE] [--no-write] [--build] [--from-json bench/results/full.json]');
      process.exit(0);
    } else throw new Error(`unknown option ${arg}; see --help`);
  }
  const unknown = options.only.filter((s) => !SECTIONS.includes(s));
  if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')}; sections are ${SECTIONS.join(', ')}`);
  return options;
}

/** How much to run (the one place to change it): the full pass aims at 15–20 minutes on 2 cores and six interpreters, the quick one at about 2. */
function plan(quick) {
  return quick
    ? { reps: 3, scale: 0.5, steps: 10, memoryReps: 1, startupReps: 3, snapshotReps: 1, snapshotSizes: [10_000], snapshotBudgetMs: 1_000, stepSizes: [10, 1000, 10000], attachReps: 1 }
    : { reps: 5, scale: 1, steps: 30, memoryReps: 3, startupReps: 5, snapshotReps: 3, snapshotSizes: [10_000, 100_000], snapshotBudgetMs: 5_000, stepSizes: [10, 1000, 10000], attachReps: 5 };
}

const log = (message) => process.stderr.write(`${message}\n`);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Build dist/ when it is missing or older than extension/ (or when asked); a failed rebuild of a stale bundle only warns. */
function ensureBundle(force) {
  const missing = !existsSync(ADAPTER);
  const stale = !missing && newestSource(path.join(ROOT, 'extension')) > statSync(ADAPTER).mtimeMs;
  if (!missing && !stale && !force) return;
  log(`${missing ? 'dist/debugAdapter.js is missing' : stale ? 'dist/ is older than extension/' : '--build'}: building with node scripts/build.mjs`);
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  } catch (error) {
    if (missing) throw error;
    log('note: the build failed; measuring the existing dist/ bundle');
  }
}

/** Write the markdown report (and, unless re-rendering, the raw JSON) for a finished run. */
function writeReport(options, results, context) {
  const resultsDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const out = options.out ?? (context.quick ? path.join(resultsDir, 'quick.md') : path.join(ROOT, 'docs', 'benchmarks.md'));
  const analysisPath = path.join(ROOT, 'bench', 'analysis.md');
  const analysis = existsSync(analysisPath) ? readFileSync(analysisPath, 'utf8') : undefined;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, renderMarkdown(results, context, analysis));
  if (!options.fromJson) {
    writeFileSync(path.join(resultsDir, `${context.quick ? 'quick' : 'full'}.json`), JSON.stringify({ context, results }, null, 1));
  }
  console.log(`wrote ${path.relative(ROOT, out)}${options.fromJson ? '' : ` and bench/results/${context.quick ? 'quick' : 'full'}.json`}`);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.fromJson) {
    const { context, results } = JSON.parse(readFileSync(options.fromJson, 'utf8'));
    context.startedAt = new Date(context.startedAt);
    console.log(`\n${renderText(results, context)}\n`);
    if (options.write) writeReport(options, results, context);
    return;
  }
  const settings = plan(options.quick);
  const startedAt = new Date();
  const t0 = Date.now();
  const gitAtStart = gitState(ROOT);
  // The machine is shared: record how busy it was, so a reader can judge the noise.
  const loads = [os.loadavg()[0]];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]), 5_000);
  sampler.unref();

  ensureBundle(options.build);

  const { found, notes, wanted } = findPythons();
  let pythons = found;
  if (options.pythons) {
    pythons = found.filter((p) => options.pythons.some((want) => p.version.startsWith(want)));
    if (pythons.length === 0) throw new Error(`no pyenv Python matches ${options.pythons.join(', ')}; found ${found.map((p) => p.label).join(', ')}`);
  } else if (options.quick && found.length) {
    // The newest interpreter with debugpy, to see both debuggers side by side; else the newest.
    pythons = [[...found].reverse().find((p) => p.debugpy) ?? found[found.length - 1]];
    notes.push(`Quick pass: only ${pythons[0].label}; the full pass covers ${found.map((p) => p.label).join(', ')}.`);
  }
  if (pythons.length === 0) throw new Error(`no CPython ${wanted.join('/')} found under pyenv; install one (npm run pythons adds Debian's 3.14 and 3.15) or set PYENV_ROOT`);
  if (!found.some((p) => p.debugpy)) {
    notes.push('No measured interpreter can import debugpy, so the debugpy rows are skipped. `npm run pythons` puts Debian\'s CPython 3.14 with python3-debugpy into pyenv\'s versions folder; run it and run the benchmarks again.');
  }
  for (const note of notes) log(`note: ${note}`);

  const newest = pythons[pythons.length - 1];
  const withDebugpy = pythons.filter((p) => p.debugpy).map((p) => `debugpy ${p.debugpy.version} on ${p.label}`);
  log(`Loopscope benchmarks, ${options.quick ? 'quick' : 'full'} pass, on ${pythons.map((p) => p.label).join(', ')}${withDebugpy.length ? ` (${withDebugpy.join(', ')})` : ''}`);
  const lineBreakpoints = await probeLineBreakpoints(newest);
  log(`line breakpoints: ${lineBreakpoints.implemented ? 'verified by the adapter, measured' : `not verified (${lineBreakpoints.message ?? 'no message'}), row marked`}`);

  const results = {};
  if (options.only.includes('free')) {
    log('1. free-running overhead');
    const runs = pythons.map((p) => ({ ...p, modes: modesFor(p, lineBreakpoints.implemented) }));
    results.free = await runFreeRunning({ pythons: runs, reps: settings.reps, scale: settings.scale, log });
  }
  let snapshotSupported = false;
  if (options.only.includes('step')) {
    log('2. step latency');
    results.step = await runStepLatency({ pythons, sizes: settings.stepSizes, modes: ['event', 'spin'], steps: settings.steps, snapshotBudgetMs: settings.snapshotBudgetMs, log });
    snapshotSupported = Object.values(results.step).flat().some((r) => r.snapshotSupported);
  }
  if (options.only.includes('scale')) {
    log('3. scale');
    results.memory = await runMemory({ pythons, count: 100_000, reps: settings.memoryReps, log });
    results.snapshots = await runSnapshots({ python: newest, sizes: settings.snapshotSizes, reps: settings.snapshotReps, supported: snapshotSupported, log });
  }
  if (options.only.includes('startup')) {
    log('4. start-up');
    results.startup = await runStartup({ pythons, reps: settings.startupReps, log });
    results.bundles = bundleSizes();
  }
  if (options.only.includes('attach')) {
    log('5. attach');
    // Every CPython the attach covers, not only the bench's usual four.
    const { found } = findPythons([8, 9, 10, 11, 12, 13, 14, 15]);
    const attachPythons = options.pythons ? found.filter((p) => options.pythons.some((want) => p.version.startsWith(want))) : options.quick ? found.slice(-1) : found;
    results.attach = await runAttach({ pythons: attachPythons, reps: settings.attachReps, log, quickRounds: options.quick ? 20 : undefined });
  }

  const durationS = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  loads.push(os.loadavg()[0]);
  const context = {
    machine: machineInfo(), pythons, notes, git: gitState(ROOT), gitAtStart, startedAt, durationS, quick: options.quick,
    reps: settings.reps, scale: settings.scale, lineBreakpoints,
    load: { min: Math.min(...loads), max: Math.max(...loads), median: median(loads) },
  };
  if (options.merge) {
    // One section measured now; the rest of the report from the last full run.
    const previous = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results', 'full.json'), 'utf8'));
    previous.context.startedAt = new Date(previous.context.startedAt);
    Object.assign(previous.results, results);
    console.log(`\n${renderText(previous.results, previous.context)}\n`);
    if (options.write) writeReport({ ...options, merged: true }, previous.results, previous.context);
    return;
  }
  console.log(`\n${renderText(results, context)}\n`);
  console.log(`(${options.quick ? 'quick' : 'full'} pass took ${durationS.toFixed(0)} s; 1-minute load average ${context.load.min.toFixed(1)}–${context.load.max.toFixed(1)} on ${context.machine.nproc} cores)`);

  if (options.write) writeReport(options, results, context);
}

main().catch((error) => {
  console.error(`bench failed: ${error.stack ?? error}`);
  process.exit(1);
});
