// Part 5 of the scenario (issue #13): test/fixtures/thousands.py, 2,000 tasks waiting on an Event,
// 100 spinning on sleep(0) and main. The Asyncio Tasks view counts every task, pages a group with
// 'Show more…', filters over all tasks and groups identical tasks; a function breakpoint on a task
// far beyond the thread cap stops there with its line on screen; Task Switches says what ran unrecorded.
import { join } from 'node:path';
import { ROOT, T, log, step, waitFor } from '../harness.mjs';
import {
  describeRows, expectConsoleLine, giveRoomTo, groupState, lineOfMarker, readmeImage, stopSession, viewTop, waitForTree,
} from '../checks.mjs';

const WAITERS = 2000;
const SPINNERS = 100;
const LAST_SPINNER = 'spinner-099';
/** launch.json's maxTaskThreads default: tasks listed as threads in the Call Stack. */
const THREAD_CAP = 256;
const PAGE = 200;

export const title = `5. thousands.py: ${WAITERS.toLocaleString('en-US')} waiting tasks and ${SPINNERS} spinning`;

export const PROGRAMS = {
  // No stopOnEntry: it runs as F5 runs a program, until a breakpoint or Pause.
  thousands: { config: 'Loopscope: thousands', file: 'thousands.py', from: join(ROOT, 'test', 'fixtures') },
};

const SCREENSHOT = join(ROOT, 'docs', 'media', 'thousands.png');
const SWITCHES_SCREENSHOT = join(ROOT, 'docs', 'media', 'task-switches.png');

/** 'Waiting (2,001)' → { state: 'Waiting', count: 2001 }; 'Ready (100 of 100)' → { …, count: 100, of: 100 }. */
function groupCount(label) {
  const m = /^(\w+) \(([\d,]+)(?: of ([\d,]+))?\)$/.exec(label);
  const number = (text) => Number(text.replace(/,/g, ''));
  return m && { state: m[1], count: number(m[2]), of: m[3] !== undefined ? number(m[3]) : undefined };
}

/** 'Show more…' rows and the '200 of 2,001 shown' they say. */
function shownOf(rows) {
  return rows.filter((r) => r.label === 'Show more…').map((r) => r.description);
}

export async function run(wb, { path }) {
  const spinning = lineOfMarker(path.thousands, 'spinning');
  const waiting = lineOfMarker(path.thousands, 'waiting');
  let counts;

  await step(`5. start '${PROGRAMS.thousands.config}': it runs, with ${WAITERS} waiters and ${SPINNERS} spinners started`, async () => {
    await wb.startDebugging(PROGRAMS.thousands.config);
    await expectConsoleLine(wb, new RegExp(`^started ${WAITERS} waiters and ${SPINNERS} spinners$`), 'that the tasks started');
    await wb.waitForToolbarButton('Pause');
    if (await wb.paused()) throw new Error('the session is paused, though thousands.py has no stopOnEntry and no breakpoint');
  });

  await step(`5. a function breakpoint on '${LAST_SPINNER}' (far beyond the thread cap) stops there, at its line`, async () => {
    await wb.addFunctionBreakpoint(LAST_SPINNER);
    const onTask = (t) => t.thread === `${LAST_SPINNER} · spinner`;
    const { thread, threads } = await wb.waitForThread(`task '${LAST_SPINNER}' stopped in spinner() at thousands.py:${spinning}`, (t) => {
      const top = t.frames.find((f) => !f.label);
      return onTask(t) && top?.name === 'spinner' && top.file === 'thousands.py' && top.line === spinning;
    });
    if (thread.state !== `breakpoint on ${LAST_SPINNER}`) throw new Error(`the Call Stack says '${thread.state}' for ${LAST_SPINNER}, not 'breakpoint on ${LAST_SPINNER}'`);
    const tasks = threads.filter((t) => !/^Event loop /.test(t.thread ?? ''));
    if (tasks.length > THREAD_CAP + 1) throw new Error(`the Call Stack lists ${tasks.length} tasks, more than the cap of ${THREAD_CAP} and the stopped one`);
    // Tasks are threads in the order they were made, up to the cap: the spinners, made after the
    // 2,000 waiters, are beyond it; the one the stop is about is listed all the same.
    const otherSpinners = tasks.filter((t) => t.thread.startsWith('spinner-') && !onTask(t));
    if (otherSpinners.length) throw new Error(`the Call Stack lists spinners beyond the thread cap: ${JSON.stringify(otherSpinners.map((t) => t.thread))}`);
    await waitFor(`the editor to show thousands.py with the arrow at line ${spinning}`, async () => {
      const editor = await wb.activeEditor();
      return editor.tab.startsWith('thousands.py') && editor.line === spinning && (await wb.topStackFrameLines()).includes(spinning);
    }).catch(async (error) => {
      throw new Error(`${error.message}; editor: ${JSON.stringify(await wb.activeEditor())}, arrow on lines ${JSON.stringify(await wb.topStackFrameLines())}`);
    });
    log(`  Call Stack: ${threads.length} threads (${tasks.length} tasks), the first ${JSON.stringify(threads.slice(0, 3).map((t) => `${t.thread}: ${t.state}`))}`);
  });

  await step(`5. Asyncio Tasks counts every task: Waiting (${(WAITERS + 1).toLocaleString('en-US')}), ${SPINNERS} ready or running`, async () => {
    await giveRoomTo(wb, ['Call Stack', 'Asyncio Tasks']);
    const rows = await waitForTree(wb, 'Asyncio Tasks', `Waiting (${(WAITERS + 1).toLocaleString('en-US')}) and ${SPINNERS} ready or running`, (rows) => {
      const groups = rows.filter((r) => r.level === 1).map((r) => groupCount(r.label));
      const of = (state) => groups.find((g) => g?.state === state)?.count ?? 0;
      return groups.every(Boolean) && of('Waiting') === WAITERS + 1 && of('Ready') + of('Running') === SPINNERS
        && groups.length === groups.filter((g) => ['Running', 'Ready', 'Waiting'].includes(g.state)).length && rows;
    });
    counts = Object.fromEntries(rows.filter((r) => r.level === 1).map((r) => { const g = groupCount(r.label); return [g.state, g.count]; }));
    const deadlocks = rows.filter((r) => r.level === 1 && /^Deadlock|^Lost wake-up/.test(r.label));
    if (deadlocks.length) throw new Error(`a deadlock row where none is: ${describeRows(deadlocks)}`);
    log(`  Asyncio Tasks groups: ${JSON.stringify(counts)}; ${rows.length} rows`);
  });

  await step(`5. the Waiting group shows ${PAGE} tasks and 'Show more…'; clicking it shows ${PAGE} more`, async () => {
    const before = await waitForTree(wb, 'Asyncio Tasks', `'Show more…' under Waiting, '${PAGE} of ${(WAITERS + 1).toLocaleString('en-US')} shown'`, (rows) =>
      rows.filter((r) => groupState(r.group) === 'Waiting' && r.level === 2 && r.label !== 'Show more…').length === PAGE
        && shownOf(rows).includes(`${PAGE} of ${(WAITERS + 1).toLocaleString('en-US')} shown`) && rows);
    const more = await wb.scrollToRow(wb.viewBody('Asyncio Tasks'), wb.treeRow('Asyncio Tasks', 'Show more…'), "'Show more…'");
    await more.click();
    const after = await waitForTree(wb, 'Asyncio Tasks', `${2 * PAGE} tasks under Waiting, '${2 * PAGE} of ${(WAITERS + 1).toLocaleString('en-US')} shown'`, (rows) => {
      const shown = rows.filter((r) => groupState(r.group) === 'Waiting' && r.level === 2 && r.label !== 'Show more…');
      return shown.length === 2 * PAGE && new Set(shown.map((r) => r.label)).size === 2 * PAGE
        && shownOf(rows).includes(`${2 * PAGE} of ${(WAITERS + 1).toLocaleString('en-US')} shown`) && rows;
    });
    const waiter = after.find((r) => r.label === `waiter-${String(2 * PAGE - 2).padStart(4, '0')}`);
    if (!waiter?.description.startsWith(`waiter · thousands.py:${waiting} · Event`)) {
      throw new Error(`a waiter of the second page should read 'waiter · thousands.py:${waiting} · Event …': ${JSON.stringify(waiter)}`);
    }
    log(`  before: ${before.length} rows; after 'Show more…': ${after.length} rows; ${waiter.label} — ${waiter.description}`);
  });

  await step(`5. Filter Tasks 'spinner' shows the ${SPINNERS} spinners, counted over all tasks`, async () => {
    await wb.clickViewAction('Asyncio Tasks', 'Filter Tasks');
    await wb.answerInputBox('spinner');
    const rows = await waitForTree(wb, 'Asyncio Tasks', `the ${SPINNERS} spinners only, in groups 'N of M'`, (rows) => {
      const groups = rows.filter((r) => r.level === 1).map((r) => groupCount(r.label));
      const tasks = rows.filter((r) => r.level === 2);
      return groups.length > 0 && groups.every((g) => g && g.of === counts[g.state]) && groups.reduce((sum, g) => sum + g.count, 0) === SPINNERS
        && tasks.length === SPINNERS && tasks.every((t) => /^spinner-\d{3}$/.test(t.label)) && rows;
    });
    const description = await wb.viewDescription('Asyncio Tasks');
    if (!description.includes('filter: spinner')) throw new Error(`the view's title says '${description}', not 'filter: spinner'`);
    log(`  filtered: ${describeRows(rows.filter((r) => r.level === 1))}; title: '${description}'`);
    await wb.clickViewAction('Asyncio Tasks', 'Clear Task Filter');
    await waitForTree(wb, 'Asyncio Tasks', `Waiting (${(WAITERS + 1).toLocaleString('en-US')}) again`, (rows) =>
      rows.some((r) => r.level === 1 && r.label === `Waiting (${(WAITERS + 1).toLocaleString('en-US')})`));
  });

  await step(`5. Group Tasks By → identical tasks: '${WAITERS.toLocaleString('en-US')} × waiter · thousands.py:${waiting} · Event.wait()'`, async () => {
    await wb.clickViewAction('Asyncio Tasks', 'Group Tasks By');
    await wb.pickFromQuickPick(/identical tasks/);
    const expected = `${WAITERS.toLocaleString('en-US')} × waiter · thousands.py:${waiting} · Event.wait()`;
    const rows = await waitForTree(wb, 'Asyncio Tasks', `'${expected}' first`, (rows) => {
      const groups = rows.filter((r) => r.level === 1);
      const total = groups.reduce((sum, r) => sum + Number((/^([\d,]+) × /.exec(r.label)?.[1] ?? 'NaN').replace(/,/g, '')), 0);
      return groups[0]?.label === expected && total === WAITERS + SPINNERS + 1 && rows;
    });
    log(`  grouped: ${describeRows(rows)}; title: '${await wb.viewDescription('Asyncio Tasks')}'`);
    await wb.saveScreenshot('thousands.png', await viewTop(wb, 'Asyncio Tasks', 100), readmeImage(SCREENSHOT));
    await wb.clickViewAction('Asyncio Tasks', 'Group Tasks By');
    await wb.pickFromQuickPick(/by state: running/);
    await waitForTree(wb, 'Asyncio Tasks', 'the tasks grouped by state again', (rows) => rows.some((r) => r.level === 1 && /^Waiting \(/.test(r.label)));
  });

  await step("5. Continue and Pause: Task Switches says which iterations 'ran freely: not recorded'", async () => {
    await wb.removeAllBreakpoints(); // so that nothing is recorded: the program runs freely
    const ranFreely = (rows) => rows.some((r) => r.level === 1 && /^Iterations? [\d,]+(–[\d,]+)?$/.test(r.label) && /^ran .*not recorded$/.test(r.description)) && rows;
    // A Pause right after Continue can stop before the next handle of the same iteration, when
    // nothing has run freely yet: then the user lets it run once more, up to three times.
    let rows;
    let states;
    for (let round = 1; round <= 3 && !rows; round++) {
      await wb.clickToolbar('Continue');
      await wb.waitForToolbarButton('Pause');
      await wb.clickToolbar('Pause');
      states = await wb.waitForStop({ matching: /pause/i });
      // The stop has a place on screen: the editor shows the arrow (issue #13: not a frame without source).
      await waitFor('the editor to show the stack frame arrow', async () => (await wb.topStackFrameLines()).length > 0);
      const what = "a row 'Iterations A–B · ran freely: not recorded'";
      rows = round < 3 ? await waitForTree(wb, 'Task Switches', what, ranFreely, T.ui / 3).catch(() => undefined) : await waitForTree(wb, 'Task Switches', what, ranFreely);
      if (!rows) log(`  round ${round}: no 'ran freely' row yet; Continue and Pause again`);
    }
    const gap = rows.find((r) => /not recorded$/.test(r.description));
    await wb.saveScreenshot('task-switches.png', await viewTop(wb, 'Task Switches', 130), readmeImage(SWITCHES_SCREENSHOT));
    log(`  Call Stack states: ${JSON.stringify(states.slice(0, 3))}; editor ${JSON.stringify(await wb.activeEditor())}`);
    log(`  Task Switches: ${gap.label} — ${gap.description} (of ${rows.filter((r) => r.level === 1).length} top rows)`);
  });

  await step('5. Stop ends the thousands session', async () => {
    await stopSession(wb, path.thousands, 'the thousands.py debuggee');
  });
}
