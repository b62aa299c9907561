// `loopscope` command line: `loopscope trace [--python PY] PROGRAM [ARGS...]`.
import { runTrace } from './trace';

const USAGE = `usage: loopscope trace [--python PYTHON] [--max-iterations N] (PROGRAM | -m MODULE) [ARGS...]

Runs an asyncio program under Loopscope and prints one block per event-loop iteration:
the iteration number, the loop time, each task step or callback that ran (task, coroutine,
where it resumed and where it suspended) and the program's own output in place.`;

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
  let index = 0;
  for (; index < rest.length; index++) {
    const arg = rest[index];
    if (arg === '--python') python = rest[++index];
    else if (arg === '--max-iterations') maxIterations = Number(rest[++index]);
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
  return runTrace({ python, program, module, args: rest.slice(index), maxIterations, out: process.stdout, err: process.stderr });
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
  console.error(`loopscope: ${(error as Error).message}`);
  process.exitCode = 1;
});
