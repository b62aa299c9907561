// `loopscope` command line: `loopscope trace [--python PY] PROGRAM [ARGS...]`.
import * as path from 'node:path';
import { runTrace } from './trace';

const USAGE = `usage: loopscope trace [--python PYTHON] [--max-iterations N] [--lint] [--timeline FILE] [--blocked-ms MS]
                       (PROGRAM | -m MODULE) [ARGS...]

Runs an asyncio program under Loopscope and prints one block per event-loop iteration:
the iteration number, the loop time, each task step or callback that ran (task, coroutine,
where it resumed and where it suspended) and the program's own output in place.

  --lint           run the program freely and list the asyncio mistakes found, one per line
                   (never awaited, exception never retrieved, blocking calls, ...)
  --timeline FILE  run the program freely and write its timeline (iterations, task steps, who
                   woke whom) as Chrome Trace Event JSON, for https://ui.perfetto.dev or chrome://tracing
  --blocked-ms MS  the Loop blocked threshold for --lint (default 100)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'trace') {
    console.error(`loopscope: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let python = process.env.LOOPSCOPE_PYTHON;
  let maxIterations = Infinity;
  let module: string | undefined;
  let lint = false;
  let timeline: string | undefined;
  let blockedMs: number | undefined;
  let index = 0;
  for (; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === '--python') python = rest[++index];
    else if (arg === '--max-iterations') maxIterations = Number(rest[++index]);
    else if (arg === '--lint') lint = true;
    else if (arg === '--timeline') timeline = rest[++index];
    else if (arg === '--blocked-ms') blockedMs = Number(rest[++index]);
    else if (arg === '-m') { module = rest[++index]; index++; break; }
    else if (arg.startsWith('-')) { console.error(`loopscope: unknown option ${arg}\n${USAGE}`); return 2; }
    else break;
  }
  const program = module === undefined ? rest[index++] : undefined;
  if (module === undefined && program === undefined) {
    console.error(`loopscope: say which program to trace\n${USAGE}`);
    return 2;
  }
  if (!Number.isFinite(maxIterations) && maxIterations !== Infinity || maxIterations <= 0) {
    console.error('loopscope: --max-iterations takes a positive number');
    return 2;
  }
  if (timeline !== undefined && timeline === '') {
    console.error('loopscope: --timeline takes the file to write');
    return 2;
  }
  if (blockedMs !== undefined && !(blockedMs >= 1)) {
    console.error('loopscope: --blocked-ms takes a number of milliseconds, 1 or more');
    return 2;
  }
  return runTrace({
    python, program, module, args: rest.slice(index), maxIterations, lint, timeline: timeline && path.resolve(timeline), blockedMs,
    out: process.stdout, err: process.stderr,
  });
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
  console.error(`loopscope: ${(error as Error).message}`);
  process.exitCode = 1;
});
