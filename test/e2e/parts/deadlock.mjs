// Part 6 of the scenario (issue #16): test/fixtures/deadlocks.py locks, two tasks taking two locks in
// opposite orders. Run freely, it deadlocks: a warning notification names the stuck tasks and its
// Pause button pauses; Asyncio Tasks shows the deadlock at the top and what each task waits on and
// who holds it. Run again with the Breakpoints view's Deadlock filter ticked, it stops by itself.
import { join } from 'node:path';
import { ROOT, log, step, waitFor } from '../harness.mjs';
import {
  STATUS_ITEM, describeRows, expectConsoleLine, giveRoomTo, lineOfMarker, readmeImage, stopSession, viewTop, waitForTree,
} from '../checks.mjs';

export const title = '6. deadlocks.py locks: two tasks, two locks, opposite orders';

export const PROGRAMS = {
  // No stopOnEntry: it runs until it deadlocks.
  deadlock: { config: 'Loopscope: deadlocks (locks)', file: 'deadlocks.py', from: join(ROOT, 'test', 'fixtures'), args: ['locks'] },
};

/** The notification and the Debug Console line of a loop that would wait for ever (deadlocks.py, idle_deadlock). */
const WAITS_FOR_EVER = /^Event loop \d+ \(MainThread\) would wait for ever: 3 tasks wait and nothing can wake them\b/;
const STUCK = 'Stuck: Task-1, left, right.';
const CYCLE = 'Deadlock: left → right → left';
const IDLE = 'Deadlock: the loop waits for ever (3 tasks waiting)';

const SCREENSHOT = join(ROOT, 'docs', 'media', 'deadlock.png');
const TASKS_SCREENSHOT = join(ROOT, 'docs', 'media', 'deadlock-tasks.png');

/** Asyncio Tasks: the two deadlock rows first, and each task waiting on the lock the other holds. */
async function expectDeadlockRows(wb, locksMade) {
  const rows = await waitForTree(wb, 'Asyncio Tasks', `'${CYCLE}' and '${IDLE}' at the top, left and right each waiting on the other's lock`, (rows) => {
    const top = rows.filter((r) => r.level === 1).slice(0, 2).map((r) => r.label);
    const task = (name) => rows.find((r) => r.level === 2 && r.label === name);
    return top.includes(CYCLE) && top.includes(IDLE)
      && / · Lock lock_b, held by right$/.test(task('left')?.description ?? '')
      && / · Lock lock_a, held by left$/.test(task('right')?.description ?? '') && rows;
  });
  await wb.expandTreeRow('Asyncio Tasks', 'left');
  const details = await waitForTree(wb, 'Asyncio Tasks', "under left: what it waits on, who holds it, who created it", (rows) => {
    const start = rows.findIndex((r) => r.level === 2 && r.label === 'left');
    const under = [];
    for (let i = start + 1; i < rows.length && rows[i].level > 2; i++) under.push(rows[i]);
    const has = (label, description) => under.some((r) => r.label === label && (description === undefined || r.description === description));
    return has('waits on: Lock lock_b, held by right', `made at deadlocks.py:${locksMade}`) && has('held by: right') && has('created by: Task-1') && under;
  });
  return { rows, details };
}

/** One notification per deadlock: the warning with its buttons, not also the Debug Console's line as a toast. */
function expectToldOnce(toasts) {
  const told = toasts.filter((t) => /would wait for ever/.test(t.message));
  if (told.length > 1) {
    throw new Error(`${told.length} notifications for one deadlock: ${JSON.stringify(told.map((t) => `${t.severity}: ${t.message.slice(0, 60)}…`))}`);
  }
}

export async function run(wb, { path }) {
  const locksMade = lineOfMarker(path.deadlock, 'locks-made');

  await step("6. run deadlocks.py locks: a warning notification names the stuck tasks; its Pause pauses", async () => {
    await wb.startDebugging(PROGRAMS.deadlock.config);
    const toast = await wb.waitForNotification(WAITS_FOR_EVER);
    if (toast.severity !== 'warning' || !toast.message.endsWith(STUCK) || JSON.stringify(toast.buttons) !== '["Pause","Show Asyncio Tasks"]') {
      throw new Error(`the notification should be a warning ending '${STUCK}' with the buttons Pause and Show Asyncio Tasks: ${JSON.stringify(toast)}`);
    }
    log(`  notification (${toast.severity}): ${toast.message} [${toast.buttons.join(', ')}]`);
    await expectConsoleLine(wb, /^\[loopscope\] Event loop \d+ \(MainThread\) would wait for ever: .* Tasks: Task-1, left, right\.$/, 'that the loop would wait for ever');
    if (await wb.paused()) throw new Error('the session paused, though the Deadlock filter is not ticked');
    await wb.saveScreenshot('deadlock.png', wb.notificationToast(WAITS_FOR_EVER), readmeImage(SCREENSHOT));
    expectToldOnce(await wb.notifications());
    await wb.clickNotificationButton(WAITS_FOR_EVER, 'Pause');
    const states = await wb.waitForStop({ matching: /pause/i });
    log(`  Call Stack states after Pause: ${JSON.stringify(states)}`);
  });

  await step('6. Asyncio Tasks shows the deadlock at the top, and what each task waits on and who holds it', async () => {
    await giveRoomTo(wb, ['Call Stack', 'Asyncio Tasks']);
    const { rows, details } = await expectDeadlockRows(wb, locksMade);
    log(`  Asyncio Tasks: ${describeRows(rows)}`);
    log(`  under left: ${describeRows(details)}`);
    await wb.saveScreenshot('deadlock-tasks.png', await viewTop(wb, 'Asyncio Tasks', 250), readmeImage(TASKS_SCREENSHOT));
  });

  await step('6. Stop ends the deadlocked session', async () => {
    await stopSession(wb, path.deadlock, 'the deadlocks.py debuggee');
  });

  await step("6. with the Breakpoints view's Deadlock ticked, the program stops by itself at the deadlock", async () => {
    await wb.setBreakpointEnabled('Deadlock', true);
    await wb.startDebugging(PROGRAMS.deadlock.config);
    const { thread } = await wb.waitForThread("the loop thread stopped with 'deadlock'", (t) => /^Event loop \d+ /.test(t.thread ?? '') && t.state === 'deadlock');
    await expectConsoleLine(wb, /^\[loopscope\] Event loop \d+ \(MainThread\) would wait for ever: .* Tasks: Task-1, left, right\.$/, 'why it stopped');
    const { rows } = await expectDeadlockRows(wb, locksMade);
    log(`  Call Stack: ${thread.thread}: ${thread.state}, top frame ${JSON.stringify(thread.frames[0])}`);
    log(`  Asyncio Tasks: ${describeRows(rows.filter((r) => r.level === 1))}`);
    // The stop's sentence ('Deadlock: … would wait for ever …') belongs where the Call Stack's few
    // words point to: the status bar's tooltip, 'the stop's own sentence'.
    const tooltip = await wb.statusBarTooltip(STATUS_ITEM).catch((error) => `(no tooltip: ${error.message})`);
    log(`  status bar tooltip: ${JSON.stringify(tooltip)}`);
    if (!/would wait for ever/.test(tooltip)) {
      throw new Error(`the status bar's tooltip should give the stop's sentence, not its few words: ${JSON.stringify(tooltip)}`);
    }
    // The notification comes too; the program is paused already, so Pause has nothing to do.
    const toast = await wb.waitForNotification(WAITS_FOR_EVER);
    log(`  notification while stopped (${toast.severity}): …${toast.message.slice(-40)} [${toast.buttons.join(', ')}]`);
    expectToldOnce(await wb.notifications());
    if (toast.buttons.includes('Pause')) {
      throw new Error(`stopped at the deadlock by the Deadlock filter, the notification should not offer Pause: ${JSON.stringify(toast.buttons)}`);
    }
  });

  await step('6. Stop ends the session; the Deadlock filter is unticked again', async () => {
    await stopSession(wb, path.deadlock, 'the deadlocks.py debuggee');
    await wb.setBreakpointEnabled('Deadlock', false);
    await waitFor('the status bar item to go', async () => !(await wb.statusBarItem(STATUS_ITEM)));
  });
}
