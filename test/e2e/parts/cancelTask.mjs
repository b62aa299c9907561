// Part 4 of the scenario: cancel_worker.py (test/e2e/programs/); two Step Loop Iterations start a
// worker task that sleeps; Cancel Task from its context menu in Asyncio Tasks shows it cancelling at
// once; Continue: the program prints the cancellation and ends with exit code 3, said on screen.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log, step } from '../harness.mjs';
import {
  ENTRY, STATUS_ITEM, debuggeesOf, describeRows, expectConsoleLine, expectProgramOutput, groupState, lineOf, waitForExit,
  waitForStatusPosition, waitForTree,
} from '../checks.mjs';
import { STEP_ITERATION } from './entryAndIterations.mjs';

const CANCELLED_TASK = 'worker';
const CANCEL_EXIT_CODE = 3;

export const title = `4. cancel_worker.py: Cancel Task on '${CANCELLED_TASK}'`;

export const PROGRAMS = {
  // Run through a wrapper that notes the interpreter's exit code, to compare with what the screen says.
  cancel: { config: 'Loopscope: cancel_worker', file: 'cancel_worker.py', from: join(ROOT, 'test', 'e2e', 'programs'), stopOnEntry: true, noteExitCode: true },
};

/** The exit codes the wrapper (scenario.mjs) noted in `log` for runs of `programPath`. */
function notedExitCodes(log, programPath) {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((line) => line.includes(programPath)).map((line) => Number(line.split(' ')[0]));
}

export async function run(wb, { path, exitCodes }) {
  let stopStates = await step(`4. start '${PROGRAMS.cancel.config}'; it stops on entry`, async () => {
    await wb.startDebugging(PROGRAMS.cancel.config);
    const states = await wb.waitForStop({ matching: ENTRY });
    debuggeesOf(path.cancel);
    return states;
  });
  await step(`4. two Step Loop Iterations start task '${CANCELLED_TASK}', which sleeps`, async () => {
    for (let iteration = 1; iteration <= 2; iteration++) {
      await wb.clickToolbar(STEP_ITERATION.title);
      stopStates = await wb.waitForStop({ changedFrom: stopStates });
      await waitForStatusPosition(wb, `before iteration ${iteration + 1}`);
    }
    await expectProgramOutput(wb, ['worker: started'], 'the worker\'s first line');
    const rows = await waitForTree(wb, 'Asyncio Tasks', `'${CANCELLED_TASK}' waiting in a sleep`, (rows) =>
      rows.some((r) => r.label === CANCELLED_TASK && groupState(r.group) === 'Waiting' && /sleep|timer|due in/.test(r.description)) && rows);
    // The sleep is the loop's one timer; expanded, it is due in 10 s (the frozen clock left out the pauses).
    await waitForTree(wb, 'Event Loop', "'Timers 1'", (rows) => rows.some((r) => r.label === 'Timers' && r.description === '1'));
    const timers = wb.treeRow('Event Loop', 'Timers');
    if ((await timers.getAttribute('aria-expanded')) === 'false') await timers.locator('.monaco-tl-twistie').click();
    const loop = await waitForTree(wb, 'Event Loop', "a timer 'due in 10.000 s' of the worker", (rows) =>
      rows.some((r) => /^due in (10\.000|9\.99\d) s$/.test(r.label) && r.description.endsWith(`· ${CANCELLED_TASK}`)) && rows);
    log(`  Asyncio Tasks: ${describeRows(rows)}`);
    log(`  Event Loop: ${describeRows(loop)}`);
  });
  await step(`4. Cancel Task from the context menu of '${CANCELLED_TASK}': it shows cancelling at once`, async () => {
    await wb.chooseFromContextMenu(wb.treeRow('Asyncio Tasks', CANCELLED_TASK), 'Cancel Task');
    // Cancelled, the task is woken to receive CancelledError: it no longer waits, and says it is cancelling.
    const rows = await waitForTree(wb, 'Asyncio Tasks', `'${CANCELLED_TASK}' cancelling, no longer waiting`, (rows) =>
      rows.some((r) => r.label === CANCELLED_TASK && r.group && groupState(r.group) !== 'Waiting' && / · cancelling$/.test(r.description)) && rows);
    log(`  Asyncio Tasks: ${describeRows(rows)}`);
    const line = lineOf(path.cancel, 'await asyncio.sleep(10)');
    const note = await expectConsoleLine(wb, new RegExp(`^\\[loopscope\\] Task ${CANCELLED_TASK} will be cancelled: .* at cancel_worker\\.py:${line}\\b`),
      `that task ${CANCELLED_TASK} will be cancelled where it awaits (cancel_worker.py:${line})`);
    log(`  Debug Console: ${note}`);
    if (!(await wb.paused())) throw new Error('the session no longer is paused after Cancel Task');
  });
  await step(`4. Continue: the program prints the cancellation and ends with exit code ${CANCEL_EXIT_CODE}`, async () => {
    const debuggees = debuggeesOf(path.cancel);
    await wb.clickToolbar('Continue');
    await wb.waitForSessionEnd();
    await waitForExit(debuggees, 'the cancel_worker.py debuggee');
    await expectProgramOutput(wb, ['worker: started', 'worker: cancelled', `main: the worker was cancelled; exiting with code ${CANCEL_EXIT_CODE}`],
      'the worker\'s cancellation and main\'s outcome');
    const codes = notedExitCodes(exitCodes, path.cancel);
    if (codes.at(-1) !== CANCEL_EXIT_CODE) throw new Error(`the program exited with code ${codes.at(-1)}, not ${CANCEL_EXIT_CODE} (noted: ${JSON.stringify(codes)})`);
    const note = await expectConsoleLine(wb, /^\[loopscope\] Program exited with code -?\d+/, 'the exit code');
    if (!note.includes(`code ${CANCEL_EXIT_CODE}.`)) throw new Error(`the Debug Console says "${note}", but the program exited with code ${CANCEL_EXIT_CODE}`);
    if (await wb.statusBarItem(STATUS_ITEM)) throw new Error(`the status bar still shows '${await wb.statusBarItem(STATUS_ITEM)}'`);
  });
}
