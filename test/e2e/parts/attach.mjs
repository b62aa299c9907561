// Part 7 of the scenario (issue #14): deadlocked.py (test/e2e/programs/), started outside VS Code as
// a service would run; an attach configuration picks it in the process picker; the session stops
// 'attached' with both deadlocked tasks in Asyncio Tasks; Disconnect leaves it running; attached
// again, Stop (Alt on Disconnect) detaches too, and the notification that offers to end the program
// Loopscope did not start ends it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, T, log, oneLine, step, waitFor } from '../harness.mjs';
import { groupState, processesWith, waitForExit, waitForTree } from '../checks.mjs';

const TASKS = ['invoice-worker', 'ledger-worker'];

export const PROGRAMS = {
  // An attach configuration: processId from the picker (scenario.mjs writes it for `attach: true`).
  attach: { config: 'Loopscope: attach', file: 'deadlocked.py', from: join(ROOT, 'test', 'e2e', 'programs'), attach: true },
};

export const title = `7. ${PROGRAMS.attach.file}: attach from the process picker, Disconnect, then Stop`;

/** Starts deadlocked.py outside VS Code (as a service would run) and waits until its loop is deadlocked. */
async function startService(python, programPath) {
  const child = spawn(python, ['-u', programPath], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  await waitFor(`${programPath} to say READY`, async () => /READY \d+/.test(out), T.ui).catch((error) => { child.kill('SIGKILL'); throw error; });
  return child;
}

export async function run(wb, { path, python }) {
  const attachPath = path.attach;
  const service = await step(`7. start ${PROGRAMS.attach.file} outside VS Code; its loop is deadlocked`, async () => startService(python, attachPath));
  for (const ending of ['Disconnect', 'Stop']) {
    await step(`7. start '${PROGRAMS.attach.config}', pick process ${service.pid} in the picker; it stops 'attached'`, async () => {
      await wb.startDebugging(PROGRAMS.attach.config, { pick: async (picker) => {
        await picker.locator('input').fill(String(service.pid));
        const row = picker.locator('.monaco-list-row').filter({ hasText: String(service.pid) }).first();
        await row.waitFor({ timeout: T.ui });
        const text = oneLine(await row.innerText());
        if (!/Python 3\.\d+/.test(text) || !text.includes(PROGRAMS.attach.file)) throw new Error(`the picker's row for ${service.pid} reads "${text}"`);
        log(`  picker row: ${text}`);
        await picker.locator('input').press('Enter');
      } });
      await wb.waitForStop({ matching: /attached/ });
      await waitForTree(wb, 'Asyncio Tasks', 'both deadlocked tasks waiting', (rows) => TASKS.every((name) =>
        rows.some((r) => r.label === name && groupState(r.group) === 'Waiting')) && rows);
    });
    if (ending === 'Disconnect') {
      await step('7. Disconnect ends the session; the service runs on', async () => {
        await wb.clickToolbar('Disconnect');
        await wb.waitForSessionEnd();
        if (!processesWith(attachPath).includes(service.pid)) throw new Error(`the service (pid ${service.pid}) ended with the session`);
      });
    } else {
      await step('7. Stop (Alt on Disconnect) detaches and offers to end the service; End Process ends it', async () => {
        // An attach session's toolbar offers Disconnect; holding Alt turns it into Stop.
        await wb.page.keyboard.down('Alt');
        try {
          await wb.clickToolbar('Stop');
        } finally {
          await wb.page.keyboard.up('Alt');
        }
        await wb.waitForSessionEnd();
        const toast = wb.page.locator('.notifications-toasts .notification-toast').filter({ hasText: `process ${service.pid}` });
        await toast.waitFor({ timeout: T.ui });
        await toast.locator('.monaco-button').filter({ hasText: 'End Process' }).click();
        await waitForExit([service.pid], `the service ${PROGRAMS.attach.file}`);
      });
    }
  }
}
