// Parts 1 and 2 of the scenario: interleave.py, started with the Run and Debug start button, stops
// on entry between iterations (the editor on the loop's own frame); the Loopscope views appear;
// three Step Loop Iterations print exactly three iterations and move every 'before iteration N'.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, T, log, step, waitFor } from '../harness.mjs';
import {
  ENTRY, STATUS_ITEM, debuggeesOf, describeRows, expectConsoleLine, expectProgramOutput, lineOf, programOutput, stopSession,
  waitForStatusPosition, waitForTree,
} from '../checks.mjs';

export const title = '1-2. interleave.py: entry stop, Loopscope views, three Step Loop Iterations';

export const PROGRAMS = {
  interleave: { config: 'Loopscope: interleave', file: 'interleave.py', from: join(ROOT, 'examples'), stopOnEntry: true },
};

/** The views and debug toolbar commands a loopscope session must show (package.json contributes them). */
const LOOPSCOPE_VIEWS = [
  { id: 'loopscope.tasks', title: 'Asyncio Tasks' },
  { id: 'loopscope.futures', title: 'Futures' },
  { id: 'loopscope.eventLoop', title: 'Event Loop' },
  { id: 'loopscope.taskSwitches', title: 'Task Switches' },
];
export const STEP_ITERATION = { command: 'loopscope.stepIteration', title: 'Step Loop Iteration' };

/** interleave.py's lines 'a 1 1234.567890' without the time, for comparing: 'a 1'. */
function nameAndCounter(line) {
  return /^([ab]) (\d+) \d+\.\d+$/.test(line) ? line.split(' ').slice(0, 2).join(' ') : `unexpected: ${line}`;
}

function interleaveLines(iterations) {
  const expected = [];
  for (let i = 1; i <= iterations; i++) expected.push(`a ${i}`, `b ${i}`);
  return expected;
}

/** Where `python`'s BaseEventLoop.run_forever calls _run_once: the line a loop held between iterations is at. */
function runOnceLine(python) {
  const out = execFileSync(python, ['-c', [
    'import asyncio.base_events as b, inspect',
    'lines, first = inspect.getsourcelines(b.BaseEventLoop.run_forever)',
    'print(b.__file__, [first + i for i, l in enumerate(lines) if "self._run_once()" in l][0])',
  ].join('\n')], { encoding: 'utf8' }).trim().split(' ');
  return { file: out[0].split('/').pop(), line: Number(out[1]) };
}

export async function run(wb, { path, pkg, python }) {
  await step(`1. start '${PROGRAMS.interleave.config}' with the Run and Debug start button`, async () => {
    await wb.startDebugging(PROGRAMS.interleave.config);
  });
  let stopStates = await step("1. the session stops on entry, at the loop's frame 'before iteration 1'", async () => {
    const states = await wb.waitForStop({ matching: ENTRY });
    await wb.waitForToolbarButton('Continue');
    // Between iterations the program is where its loop is: run_forever, named for the loop's position,
    // above the program's own frames.
    const loop = runOnceLine(python);
    const { thread } = await wb.waitForThread(`the loop's frame 'Event loop 1 (MainThread) · before iteration 1' at ${loop.file}:${loop.line} on top`,
      (t) => /^Event loop \d+ \(MainThread\) · before iteration 1$/.test(t.frames[0]?.name ?? '') && t.frames[0].file === loop.file && t.frames[0].line === loop.line);
    const below = thread.frames.slice(1).map((f) => `${f.name} ${f.file}:${f.line}`);
    const mainLine = lineOf(path.interleave, 'results = loop.run_until_complete(');
    if (below[0] !== `main interleave.py:${mainLine}` || !below[1]?.startsWith('<module> interleave.py:')) {
      throw new Error(`below the loop's frame the Call Stack should show main() at interleave.py:${mainLine}, then <module>: ${JSON.stringify(below)}`);
    }
    await waitFor(`the editor to show ${loop.file} with the stack frame arrow at line ${loop.line}`, async () => {
      const editor = await wb.activeEditor();
      return editor.tab.startsWith(loop.file) && editor.line === loop.line && (await wb.topStackFrameLines()).includes(loop.line);
    }).catch(async (error) => {
      throw new Error(`${error.message}; editor: ${JSON.stringify(await wb.activeEditor())}, arrow on lines ${JSON.stringify(await wb.topStackFrameLines())}`);
    });
    let variables = [];
    await waitFor("Variables to show the Event loop scope with 'iteration = before iteration 1'", async () => {
      variables = await wb.viewRows('Variables');
      return variables.includes('Event loop') && variables.includes('iteration = before iteration 1');
    }).catch((error) => { throw new Error(`${error.message}; Variables ${JSON.stringify(variables)}`); });
    const output = await programOutput(wb);
    if (output.length) throw new Error(`the program printed before its first iteration: ${JSON.stringify(output)}`);
    debuggeesOf(path.interleave);
    log(`  Call Stack states: ${JSON.stringify(states)}; Variables: ${JSON.stringify(variables)}`);
    return states;
  });
  await step('1. the Asyncio Tasks, Futures, Event Loop and Task Switches views and the Step Loop Iteration button appear', async () => {
    const contributed = pkg.contributes?.views?.debug ?? [];
    for (const view of LOOPSCOPE_VIEWS) {
      const name = contributed.find((c) => c.id === view.id)?.name;
      if (!name) throw new Error(`package.json contributes no view ${view.id} ('${view.title}') to the debug container`);
      await wb.waitForView(name, T.debug).catch((error) => { throw new Error(`view '${name}' (${view.id}) does not appear: ${error.message}`); });
    }
    const toolbar = pkg.contributes?.menus?.['debug/toolBar'] ?? [];
    if (!toolbar.some((m) => m.command === STEP_ITERATION.command)) throw new Error(`package.json puts no ${STEP_ITERATION.command} on debug/toolBar`);
    await wb.waitForToolbarButton(STEP_ITERATION.title);
    // At the entry stop the loop has run no iteration yet.
    await waitForTree(wb, 'Event Loop', "'Before iteration 1'", (rows) => rows.some((r) => r.label === 'Before iteration 1'));
    await waitForStatusPosition(wb, 'before iteration 1');
  });
  for (let iteration = 1; iteration <= 3; iteration++) {
    stopStates = await step(`2. Step Loop Iteration #${iteration} runs loop iteration ${iteration}`, async () => {
      await wb.clickToolbar(STEP_ITERATION.title);
      const states = await wb.waitForStop({ changedFrom: stopStates });
      await expectProgramOutput(wb, interleaveLines(iteration), `the output of ${iteration} iteration(s)`, nameAndCounter);
      await waitForStatusPosition(wb, `before iteration ${iteration + 1}`);
      log(`  Call Stack states: ${JSON.stringify(states)}`);
      return states;
    });
  }
  await step("2. the Event Loop view shows 'Before iteration 4' and the loop time", async () => {
    const rows = await waitForTree(wb, 'Event Loop', "'Before iteration 4' and the loop time", (rows) =>
      rows.some((r) => r.label === 'Before iteration 4') && rows.some((r) => /^Loop time t=\d+\.\d{3}$/.test(r.label)) && rows);
    const time = Number(/t=(\S+)$/.exec(rows.find((r) => r.label.startsWith('Loop time')).label)[1]);
    const loopRow = rows.find((r) => r.level === 1 && /^Event loop \d+\b/.test(r.label));
    if (!loopRow || loopRow.description !== `before iteration 4 · t=${time.toFixed(3)}`) {
      throw new Error(`the loop's row should read 'before iteration 4 · t=${time.toFixed(3)}': ${describeRows(rows)}`);
    }
    const status = await waitForStatusPosition(wb, 'before iteration 4');
    if (status !== time) throw new Error(`the status bar says t=${status}, the Event Loop view t=${time}`);
    // The loop's clock at the stop is the one the program printed during the third iteration (give or take rounding).
    const printed = Number((await programOutput(wb)).at(-1).split(' ')[2]);
    if (!(time >= printed - 0.0005 && time - printed < 1)) throw new Error(`loop time t=${time} is not the time the program printed last (${printed})`);
    log(`  Event Loop: ${describeRows(rows)}`);
  });
  await step('2. the Asyncio Tasks view lists the tasks with their states', async () => {
    const line = lineOf(path.interleave, 'await asyncio.sleep(0)');
    const rows = await waitForTree(wb, 'Asyncio Tasks', `two ready tasks of count() at interleave.py:${line}`, (rows) => {
      const tasks = rows.filter((r) => r.level === 2);
      return tasks.length === 2 && rows.filter((r) => r.level === 1).map((r) => r.label).join() === 'Ready (2)'
        && tasks.every((t) => /^Task-\d+$/.test(t.label) && t.description.startsWith(`count · interleave.py:${line}`)) && rows;
    });
    log(`  Asyncio Tasks: ${describeRows(rows)}`);
    log(`  Futures: ${describeRows(await wb.treeRows('Futures'))}`);
    log(`  Task Switches: ${describeRows(await wb.treeRows('Task Switches'))}`);
  });
  await step('2. Stop ends the interleave session', async () => {
    await stopSession(wb, path.interleave, 'the interleave.py debuggee');
    // Stop interrupts the program as Ctrl+C would, where it was held (issue #18): its clean-up runs
    // and KeyboardInterrupt's traceback comes, but no iteration after the three stepped.
    await expectConsoleLine(wb, /^KeyboardInterrupt/, 'that Stop interrupted the program');
    await expectProgramOutput(wb, interleaveLines(3), 'the output of 3 iterations and nothing after',
      nameAndCounter, (line) => /^([ab] \d|results)/.test(line));
    if (await wb.statusBarItem(STATUS_ITEM)) throw new Error(`the status bar still shows '${await wb.statusBarItem(STATUS_ITEM)}'`);
  });
}
