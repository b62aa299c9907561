// `loopscope` command line: `loopscope trace [...] PROGRAM [ARGS...]` and `loopscope explore [...] PROGRAM [ARGS...]`.
import * as path from 'node:path';
import { runExplore } from './explore';
import { runTrace } from './trace';

const USAGE = `usage: loopscope trace [--python PYTHON] [--max-iterations N] [--lint] [--timeline FILE] [--blocked-ms MS]
                       [--record FILE] (PROGRAM | -m MODULE) [ARGS...]
       loopscope explore [--python PYTHON] [-n RUNS] [--seed S] [--jitter SECONDS] [--timeout SECONDS] [--out FILE]
                         (PROGRAM | -m MODULE) [ARGS...]

trace: runs an asyncio program under Loopscope and prints one block per event-loop iteration:
the iteration number, the loop time, each task step or callback that ran (task, coroutine,
where it resumed and where it suspended) and the program's own output in place.

  --lint           run the program freely and list the asyncio mistakes found, one per line
                   (never awaited, exception never retrieved, blocking calls, ...)
  --timeline FILE  run the program freely and write its timeline (iterations, task steps, who
                   woke whom) as Chrome Trace Event JSON, for https://ui.perfetto.dev or chrome://tracing
  --blocked-ms MS  the Loop blocked threshold for --lint (default 100)
  --record FILE    also record the run's schedule to FILE, for "replay" in launch.json

explore: runs the program up to RUNS times (default 200), each under the schedule perturbation of
one seed (S, S+1, ...; default 1): timers up to --jitter seconds late (default 0.001), I/O
readiness in another order, tasks readied by different sources interleaved. Stops at the first run
that fails (non-zero exit, uncaught exception, more than --timeout seconds, default 60) and keeps
its recording in FILE (default loopscope-explore.lsrec), which replays the failure every time.
Exit code: 0 no run failed, 1 a run failed, 2 bad usage.`;

const usage = (problem: string) => { console.error(`loopscope: ${problem}\n${USAGE}`); return 2; };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'trace') return trace(rest);
  if (command === 'explore') return explore(rest);
  return usage(`unknown command "${command}"`);
}

async function trace(rest: string[]): Promise<number> {
  let python = process.env.LOOPSCOPE_PYTHON;
  let maxIterations = Infinity;
  let module: string | undefined;
  let lint = false;
  let timeline: string | undefined;
  let blockedMs: number | undefined;
  let record: string | undefined;
  let index = 0;
  for (; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === '--python') python = rest[++index];
    else if (arg === '--max-iterations') maxIterations = Number(rest[++index]);
    else if (arg === '--lint') lint = true;
    else if (arg === '--timeline') timeline = rest[++index];
    else if (arg === '--blocked-ms') blockedMs = Number(rest[++index]);
    else if (arg === '--record') record = rest[++index];
    else if (arg === '-m') { module = rest[++index]; index++; break; }
    else if (arg.startsWith('-')) return usage(`unknown option ${arg}`);
    else break;
  }
  const program = module === undefined ? rest[index++] : undefined;
  if (module === undefined && program === undefined) return usage('say which program to trace');
  if (!Number.isFinite(maxIterations) && maxIterations !== Infinity || maxIterations <= 0) {
    console.error('loopscope: --max-iterations takes a positive number');
    return 2;
  }
  if (timeline !== undefined && timeline === '') {
    console.error('loopscope: --timeline takes the file to write');
    return 2;
  }
  if (record !== undefined && record === '') {
    console.error('loopscope: --record takes the file to write');
    return 2;
  }
  if (blockedMs !== undefined && !(blockedMs >= 1)) {
    console.error('loopscope: --blocked-ms takes a number of milliseconds, 1 or more');
    return 2;
  }
  return runTrace({
    python, program, module, args: rest.slice(index), maxIterations, lint, timeline: timeline && path.resolve(timeline), blockedMs,
    record: record && path.resolve(record), out: process.stdout, err: process.stderr,
  });
}

async function explore(rest: string[]): Promise<number> {
  const options: Record<string, string> = {};
  const known = ['--python', '-n', '--seed', '--jitter', '--timeout', '--out'];
  let module: string | undefined;
  let index = 0;
  for (; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === '-m') { module = rest[++index]; index++; break; }
    if (!arg.startsWith('-')) break;
    if (!known.includes(arg)) return usage(`unknown option ${arg}`);
    if (index + 1 >= rest.length) return usage(`${arg} needs a value`);
    options[arg] = rest[++index];
  }
  const program = module === undefined ? rest[index++] : undefined;
  if (module === undefined && program === undefined) return usage('say which program to explore');
  const runs = Number(options['-n'] ?? 200);
  const timeout = Number(options['--timeout'] ?? 60);
  const seed = Number(options['--seed'] ?? 1);
  const jitter = options['--jitter'] === undefined ? undefined : Number(options['--jitter']);
  if (!Number.isInteger(runs) || runs < 1) return usage('-n takes a whole number of runs, 1 or more');
  if (!(timeout > 0)) return usage('--timeout takes a number of seconds, more than 0');
  if (!Number.isInteger(seed) || seed < 0) return usage('--seed takes a whole number, 0 or more');
  if (jitter !== undefined && !(jitter >= 0 && jitter <= 1)) return usage('--jitter takes a number of seconds, 0 to 1');
  return runExplore({
    python: options['--python'] ?? process.env.LOOPSCOPE_PYTHON, program: program && path.resolve(program), module,
    args: rest.slice(index), runs, seed, jitter, timeout, out: path.resolve(options['--out'] ?? 'loopscope-explore.lsrec'),
    stdout: process.stdout, stderr: process.stderr,
  });
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
  console.error(`loopscope: ${(error as Error).message}`);
  process.exitCode = 1;
});
