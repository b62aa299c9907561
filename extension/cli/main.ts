// `loopscope` command line: `loopscope trace [...] PROGRAM [ARGS...]` and `loopscope explore [...] PROGRAM [ARGS...]`.
import * as path from 'node:path';
import { runExplore } from './explore';
import { runTrace } from './trace';

const USAGE = `usage: loopscope trace [--python PYTHON] [--max-iterations N] [--record FILE] (PROGRAM | -m MODULE) [ARGS...]
       loopscope explore [--python PYTHON] [-n RUNS] [--seed S] [--jitter SECONDS] [--timeout SECONDS] [--out FILE]
                         (PROGRAM | -m MODULE) [ARGS...]

trace: runs an asyncio program under Loopscope and prints one block per event-loop iteration:
the iteration number, the loop time, each task step or callback that ran (task, coroutine,
where it resumed and where it suspended) and the program's own output in place. With --record,
the run's schedule is also recorded to FILE, for "replay" in launch.json.

explore: runs the program up to RUNS times (default 200), each under the schedule perturbation of
one seed (S, S+1, ...; default 1): timers up to --jitter seconds late (default 0.001), I/O
readiness in another order, tasks readied by different sources interleaved. Stops at the first run
that fails (non-zero exit, uncaught exception, more than --timeout seconds, default 60) and keeps
its recording in FILE (default loopscope-explore.lsrec), which replays the failure every time.
Exit code: 0 no run failed, 1 a run failed, 2 bad usage.`;

type Parsed = { options: Record<string, string>; module?: string; program?: string; args: string[] };

/** Options (each with one value) up to the program; unknown ones are an error. */
function parse(rest: string[], known: string[]): Parsed | string {
  const options: Record<string, string> = {};
  let module: string | undefined;
  let index = 0;
  for (; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === '-m') { module = rest[++index]; index++; break; }
    if (!arg.startsWith('-')) break;
    if (!known.includes(arg)) return `unknown option ${arg}`;
    if (index + 1 >= rest.length) return `${arg} needs a value`;
    options[arg] = rest[++index];
  }
  const program = module === undefined ? rest[index++] : undefined;
  if (module === undefined && program === undefined) return 'say which program to run';
  return { options, module, program, args: rest.slice(index) };
}

function positive(value: string | undefined, fallback: number, name: string, integer = false): number | string {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) return `${name} takes a positive ${integer ? 'whole ' : ''}number`;
  return number;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const usage = (problem: string) => { console.error(`loopscope: ${problem}\n${USAGE}`); return 2; };
  if (command === 'trace') {
    const parsed = parse(rest, ['--python', '--max-iterations', '--record']);
    if (typeof parsed === 'string') return usage(parsed);
    const maxIterations = positive(parsed.options['--max-iterations'], Infinity, '--max-iterations');
    if (typeof maxIterations === 'string') return usage(maxIterations);
    const record = parsed.options['--record'];
    return runTrace({
      python: parsed.options['--python'] ?? process.env.LOOPSCOPE_PYTHON, program: parsed.program, module: parsed.module, args: parsed.args,
      maxIterations, record: record === undefined ? undefined : path.resolve(record), out: process.stdout, err: process.stderr,
    });
  }
  if (command === 'explore') {
    const parsed = parse(rest, ['--python', '-n', '--seed', '--jitter', '--timeout', '--out']);
    if (typeof parsed === 'string') return usage(parsed);
    const runs = positive(parsed.options['-n'], 200, '-n', true);
    const timeout = positive(parsed.options['--timeout'], 60, '--timeout');
    const seedText = parsed.options['--seed'] ?? '1';
    const seed = Number(seedText);
    const jitterText = parsed.options['--jitter'];
    const jitter = jitterText === undefined ? undefined : Number(jitterText);
    if (typeof runs === 'string') return usage(runs);
    if (typeof timeout === 'string') return usage(timeout);
    if (!Number.isInteger(seed) || seed < 0) return usage('--seed takes a whole number, 0 or more');
    if (jitter !== undefined && !(Number.isFinite(jitter) && jitter >= 0)) return usage('--jitter takes a number of seconds, 0 or more');
    return runExplore({
      python: parsed.options['--python'], program: parsed.program && path.resolve(parsed.program), module: parsed.module,
      args: parsed.args, runs, seed, jitter, timeout, out: path.resolve(parsed.options['--out'] ?? 'loopscope-explore.lsrec'),
      stdout: process.stdout, stderr: process.stderr,
    });
  }
  return usage(`unknown command "${command}"`);
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
  console.error(`loopscope: ${(error as Error).message}`);
  process.exitCode = 1;
});
