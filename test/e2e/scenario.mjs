// End-to-end scenario (issues #7, #13, #16): the packaged extension in a real VS Code (code-server)
// in headless Chromium, used the way a person uses it, checked on screen. Its parts, one file each
// in parts/, each on its own program:
//
//   1-2. interleave.py (entryAndIterations.mjs): stop on entry at the loop's frame, the Loopscope
//        views, three Step Loop Iterations ('before iteration 4' everywhere).
//   3.   producer_consumer.py (taskBreakpoint.mjs): a function breakpoint on task 'consumer-2'; the
//        README screenshot (docs/media/views.png).
//   4.   cancel_worker.py (cancelTask.mjs): Cancel Task shows 'cancelling' at once; exit code 3.
//   5.   thousands.py (thousands.mjs): 2,101 tasks counted, paged, filtered and grouped; a function
//        breakpoint beyond the thread cap; Task Switches' unrecorded stretch.
//   6.   deadlocks.py locks (deadlock.mjs): the deadlock notification and its Pause, the deadlock
//        rows, and the Deadlock filter's stop.
//   7.   deadlocked.py (attach.mjs), started outside VS Code: attach from the process picker,
//        Disconnect (it runs on), attach again and Stop, ending it from the notification.
// Each part runs even when an earlier one failed (its debug session is ended first); the run ends
// with the plain line 'N passed, M failed'.
//
// Run through test/e2e/run.sh (installs the tools, packages the .vsix). Directly:
//   .e2e/bin/node test/e2e/scenario.mjs      (after test/e2e/setup.sh and npm run package)
// Environment: LOOPSCOPE_E2E_PYTHON (interpreter for the programs, default: python3's real path),
// LOOPSCOPE_E2E_TIMEOUT_SCALE (stretch every timeout), LOOPSCOPE_E2E_DIR (tools and scratch, default .e2e/),
// LOOPSCOPE_E2E_STRICT=1 (known issues fail), LOOPSCOPE_E2E_README_SCREENSHOT=1 (also write docs/media/*.png),
// LOOPSCOPE_E2E_PARTS=5,6 (run only these parts, while working on them; 1 and 2 are one part).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CodeServer, ROOT, RUN, SCREENSHOTS, StepError, Workbench, checkAfterEachStep, freshDirectories, installExtension, lockScratch,
  log, openBrowser, step, stepCounts,
} from './harness.mjs';
import { killProcessesOf, knownIssuesSeenSoFar } from './checks.mjs';
import * as entryAndIterations from './parts/entryAndIterations.mjs';
import * as taskBreakpoint from './parts/taskBreakpoint.mjs';
import * as cancelTask from './parts/cancelTask.mjs';
import * as thousands from './parts/thousands.mjs';
import * as deadlock from './parts/deadlock.mjs';
import * as attach from './parts/attach.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VSIX = join(ROOT, `loopscope-${pkg.version}.vsix`);

/** The parts, in order, with the number LOOPSCOPE_E2E_PARTS names each by. */
const PARTS = [
  { number: '1', part: entryAndIterations },
  { number: '3', part: taskBreakpoint },
  { number: '4', part: cancelTask },
  { number: '5', part: thousands },
  { number: '6', part: deadlock },
  { number: '7', part: attach },
];
const PROGRAMS = Object.assign({}, ...PARTS.map(({ part }) => part.PROGRAMS));
const EXIT_CODES = join(RUN, 'exit-codes.log');

function selectedParts() {
  const wanted = process.env.LOOPSCOPE_E2E_PARTS?.split(',').map((n) => n.trim()).filter(Boolean);
  if (!wanted?.length) return PARTS;
  const numbers = new Set(wanted.map((n) => (n === '2' ? '1' : n)));
  return PARTS.filter((p) => numbers.has(p.number));
}

function pythonForPrograms() {
  if (process.env.LOOPSCOPE_E2E_PYTHON) return process.env.LOOPSCOPE_E2E_PYTHON;
  // code-server runs with its own HOME, where a pyenv shim would not find its versions: use the real path.
  return execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();
}

/** The scratch workspace: the programs and a launch.json with one configuration for each. */
function prepareWorkspace(workspace, python) {
  // The interpreter for programs that note their exit code: runs the real one, then appends "<exit code> <arguments>" to EXIT_CODES.
  const noting = join(RUN, 'python-noting-exit-code.sh');
  writeFileSync(noting, `#!/bin/sh\n"${python}" "$@"\ncode=$?\nprintf '%s %s\\n' "$code" "$*" >> "${EXIT_CODES}"\nexit $code\n`);
  chmodSync(noting, 0o755);
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const configurations = Object.values(PROGRAMS).map((p) => {
    copyFileSync(join(p.from, p.file), join(workspace, p.file));
    if (p.attach) return { type: 'loopscope', request: 'attach', name: p.config, processId: '${command:pickProcess}' };
    return {
      type: 'loopscope', request: 'launch', name: p.config, program: `\${workspaceFolder}/${p.file}`,
      ...(p.args ? { args: p.args } : {}), ...(p.stopOnEntry ? { stopOnEntry: true } : {}),
      python: p.noteExitCode ? noting : python,
    };
  });
  writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations }, null, 2));
}

/** Fails on any error notification on screen; logs the others; then dismisses them all. */
async function checkNotifications(wb) {
  const toasts = await wb.notifications();
  if (toasts.length === 0) return;
  const errors = toasts.filter((t) => t.severity === 'error');
  if (errors.length) throw new Error(`error notification on screen: ${errors.map((t) => `"${t.message}"`).join(', ')} (all: ${JSON.stringify(toasts)})`);
  for (const toast of toasts) log(`  notification (${toast.severity}): ${toast.message}`);
  await wb.clearNotifications();
}

/**
 * Runs one part of the scenario (several steps on its programs). A failed step ends the part: the
 * failure is kept, the part's debug session is ended, and the next part runs on a clean workbench.
 */
const failures = [];
async function runPart(part, wb, context) {
  log(`--- ${part.title} ---`);
  try {
    // A debug session's start can bring the (empty) Watch view back: its room goes to the other views.
    await wb.collapseView('Watch');
    await part.run(wb, context);
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    failures.push(error.message);
    log(`FAILED: ${error.message}`);
    if (error.cause?.stack) log(error.cause.stack.split('\n').slice(1, 4).join('\n'));
    log(`  the rest of '${part.title}' is skipped; ending its debug session`);
    await wb.stopAnySession();
    for (const key of Object.keys(part.PROGRAMS)) killProcessesOf(context.path[key]);
    if ((await wb.notifications()).length) await wb.clearNotifications().catch(() => {});
    // Its function breakpoints ('consumer-2', 'spinner-099') must not stop the next part's program.
    await wb.removeAllBreakpoints().catch((e) => log(`  (could not remove the breakpoints: ${e.message.split('\n')[0]})`));
  }
}


async function main() {
  const started = Date.now();
  lockScratch();
  const dirs = freshDirectories();
  const python = pythonForPrograms();
  prepareWorkspace(dirs.workspace, python);
  const path = Object.fromEntries(Object.entries(PROGRAMS).map(([key, p]) => [key, join(dirs.workspace, p.file)]));
  const context = { path, pkg, python, exitCodes: EXIT_CODES };
  const parts = selectedParts();
  log(`workspace ${dirs.workspace}, Python ${python}, screenshots in ${SCREENSHOTS}`);
  if (parts.length < PARTS.length) log(`only parts ${parts.map((p) => p.number).join(', ')} (LOOPSCOPE_E2E_PARTS)`);

  const server = new CodeServer(dirs);
  const cleanup = () => server.killNow();
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { cleanup(); process.exit(130); });
  let browser;
  try {
    await step(`install ${VSIX.slice(ROOT.length + 1)} into code-server`, async () => {
      const { listed } = installExtension(dirs, VSIX);
      const id = `${pkg.publisher}.${pkg.name}@${pkg.version}`;
      if (!listed.includes(id)) throw new Error(`code-server lists ${JSON.stringify(listed)}, not ${id}`);
    });
    await step('start code-server', async () => {
      await server.start(); // tries twice
      log(`  code-server at ${server.url} (log ${server.logPath})`);
    });
    browser = await step('open the workspace in Chromium', async () => {
      const opened = await openBrowser(dirs);
      const consoleLog = join(RUN, 'browser-console.log');
      opened.page.on('console', (m) => { if (m.type() === 'error') writeFileSync(consoleLog, `${m.text()}\n`, { flag: 'a' }); });
      opened.page.on('pageerror', (e) => writeFileSync(consoleLog, `pageerror: ${e.message}\n`, { flag: 'a' }));
      const workbench = new Workbench(opened.page);
      await workbench.open(server.url, dirs.workspace);
      await workbench.showRunAndDebug();
      await workbench.collapseView('Watch'); // unused here: its room goes to the other views
      return opened;
    });
    const wb = new Workbench(browser.page);
    checkAfterEachStep(() => checkNotifications(wb));
    for (const { part } of parts) await runPart(part, wb, context);
    await step('no error notifications are left', async () => {}); // the check after each step does it
  } finally {
    await browser?.context.close().catch(() => {});
    await server.stop();
    // Debuggees run in sessions of their own, outside code-server's process group: end any left over.
    killProcessesOf(dirs.workspace);
  }
  const known = knownIssuesSeenSoFar();
  log(`${failures.length ? 'FAILED' : 'PASSED'} in ${((Date.now() - started) / 1000).toFixed(1)} s${known.length ? `; known issue(s) ${known.join(', ')}` : ''}; ` +
    `screenshots in ${SCREENSHOTS}`);
}

function summary() {
  const { passed, failed } = stepCounts();
  return `${passed} passed, ${failed} failed`;
}

function whereToLook() {
  return `[e2e] screenshots: ${SCREENSHOTS}; code-server log: ${join(RUN, 'code-server.log')}; ` +
    `extension host logs: ${join(RUN, 'user-data', 'logs')}; browser errors: ${join(RUN, 'browser-console.log')}`;
}

main().then(() => {
  if (failures.length) {
    for (const failure of failures) console.error(`[e2e] FAILED: ${failure}`);
    console.error(whereToLook());
  }
  console.log(summary());
  process.exit(failures.length ? 1 : 0);
}, (error) => {
  const message = error instanceof StepError ? error.message : `${error?.stack ?? error}`;
  for (const failure of failures) console.error(`[e2e] FAILED: ${failure}`);
  console.error(`[e2e] FAILED: ${message}`);
  if (error instanceof StepError && error.cause?.stack) console.error(error.cause.stack.split('\n').slice(1, 6).join('\n'));
  console.error(whereToLook());
  console.log(summary());
  process.exit(1);
});
