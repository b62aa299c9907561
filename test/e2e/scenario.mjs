// End-to-end scenario (issue #7): the packaged extension in a real VS Code (code-server) in headless
// Chromium, used the way a person uses it, checked on screen.
//
//   1. interleave.py, stopOnEntry, started with the Run and Debug start button: the session stops on
//      entry and the Asyncio Tasks, Futures, Event Loop and Task Switches views appear.
//   2. Three clicks on the debug toolbar's Step Loop Iteration: the Event Loop view shows iteration 3
//      and the loop time, the Debug Console exactly the output of three iterations (a 1, b 1, ... b 3),
//      Asyncio Tasks the example's tasks with their states. Stop.
//   3. producer_consumer.py: a function breakpoint on the task name 'consumer-2' (Breakpoints view's
//      '+'), then Continue: the stop is on that task, the editor shows its resume line, the Call Stack
//      lists the tasks as threads ('consumer-2 · consume'), Variables a local of its coroutine. The
//      README screenshot (docs/media/views.png) is taken here. Stop.
//   4. cancel_worker.py (test/e2e/programs/): two Step Loop Iterations start a worker task that sleeps;
//      Cancel Task from its context menu in Asyncio Tasks, then Continue: the program prints the
//      cancellation and ends with exit code 3.
//   5. deadlocked.py (test/e2e/programs/), started outside VS Code: an attach configuration picks it in
//      the process picker; the session stops 'attached' with both deadlocked tasks in Asyncio Tasks;
//      Disconnect leaves it running; attached again, Stop (Alt on Disconnect) detaches too, and the notification
//      that offers to end the program Loopscope did not start ends it.
// Each part runs even when an earlier one failed (its debug session is ended first); the run ends
// with the plain line 'N passed, M failed'.
//
// Run through test/e2e/run.sh (installs the tools, packages the .vsix). Directly:
//   .e2e/bin/node test/e2e/scenario.mjs      (after test/e2e/setup.sh and npm run package)
// Environment: LOOPSCOPE_E2E_PYTHON (interpreter for the programs, default: python3's real path),
// LOOPSCOPE_E2E_TIMEOUT_SCALE (stretch every timeout), LOOPSCOPE_E2E_DIR (tools and scratch, default .e2e/),
// LOOPSCOPE_E2E_STRICT=1 (known issues fail), LOOPSCOPE_E2E_README_SCREENSHOT=1 (also write docs/media/views.png).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CodeServer, ROOT, RUN, SCREENSHOTS, StepError, T, Workbench, checkAfterEachStep, freshDirectories, installExtension, lockScratch,
  log, oneLine, openBrowser, step, stepCounts, waitFor,
} from './harness.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VSIX = join(ROOT, `loopscope-${pkg.version}.vsix`);

/** The views and debug toolbar commands a loopscope session must show (package.json contributes them). */
const LOOPSCOPE_VIEWS = [
  { id: 'loopscope.tasks', title: 'Asyncio Tasks' },
  { id: 'loopscope.futures', title: 'Futures' },
  { id: 'loopscope.eventLoop', title: 'Event Loop' },
  { id: 'loopscope.taskSwitches', title: 'Task Switches' },
];
const STEP_ITERATION = { command: 'loopscope.stepIteration', title: 'Step Loop Iteration' };
/** The end of the id of the status bar item 'Loop iteration N · t=…'. */
const STATUS_ITEM = 'loopscope.loopIteration';

const PROGRAMS = {
  interleave: { config: 'Loopscope: interleave', file: 'interleave.py', from: join(ROOT, 'examples') },
  producer: { config: 'Loopscope: producer_consumer', file: 'producer_consumer.py', from: join(ROOT, 'examples') },
  // Run through a wrapper that notes the interpreter's exit code (VS Code shows none).
  cancel: { config: 'Loopscope: cancel_worker', file: 'cancel_worker.py', from: join(ROOT, 'test', 'e2e', 'programs'), noteExitCode: true },
};
const ATTACH = { config: 'Loopscope: attach', file: 'deadlocked.py', from: join(ROOT, 'test', 'e2e', 'programs'), tasks: ['invoice-worker', 'ledger-worker'] };
const TASK_BREAKPOINT = 'consumer-2';
const CANCELLED_TASK = 'worker';
const CANCEL_EXIT_CODE = 3;
/** How the Call Stack states the entry stop ('Paused before the first iteration of event loop 1 …', 'Paused on entry'). */
const ENTRY = /before the first iteration|on entry|^entry$/i;
const EXIT_CODES = join(RUN, 'exit-codes.log');
const README_SCREENSHOT = join(ROOT, 'docs', 'media', 'views.png');

function pythonForPrograms() {
  if (process.env.LOOPSCOPE_E2E_PYTHON) return process.env.LOOPSCOPE_E2E_PYTHON;
  // code-server runs with its own HOME, where a pyenv shim would not find its versions: use the real path.
  return execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' }).trim();
}

/** The scratch workspace: the programs and a launch.json with one stopOnEntry configuration for each. */
function prepareWorkspace(workspace, python) {
  // The interpreter for cancel_worker.py: runs the real one, then appends "<exit code> <arguments>" to EXIT_CODES.
  const noting = join(RUN, 'python-noting-exit-code.sh');
  writeFileSync(noting, `#!/bin/sh\n"${python}" "$@"\ncode=$?\nprintf '%s %s\\n' "$code" "$*" >> "${EXIT_CODES}"\nexit $code\n`);
  chmodSync(noting, 0o755);
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const configurations = Object.values(PROGRAMS).map((p) => {
    copyFileSync(join(p.from, p.file), join(workspace, p.file));
    return { type: 'loopscope', request: 'launch', name: p.config, program: `\${workspaceFolder}/${p.file}`, stopOnEntry: true,
      python: p.noteExitCode ? noting : python };
  });
  copyFileSync(join(ATTACH.from, ATTACH.file), join(workspace, ATTACH.file));
  configurations.push({ type: 'loopscope', request: 'attach', name: ATTACH.config, processId: '${command:pickProcess}' });
  writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations }, null, 2));
}

/** The exit codes the wrapper noted for runs of `programPath`. */
function notedExitCodes(programPath) {
  if (!existsSync(EXIT_CODES)) return [];
  return readFileSync(EXIT_CODES, 'utf8').split('\n').filter((line) => line.includes(programPath)).map((line) => Number(line.split(' ')[0]));
}

/** The 1-based number of the first line of `file` that starts with `prefix` (after indentation). */
function lineOf(file, prefix) {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.trimStart().startsWith(prefix));
  if (index < 0) throw new Error(`no line starting with '${prefix}' in ${file}`);
  return index + 1;
}

/** Pids of the live (not zombie) processes whose command line holds `text`: the debuggee of a program, say. */
function processesWith(text) {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out.split('\n').map((line) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m) => m && !m[2].startsWith('Z') && m[3].includes(text) && Number(m[1]) !== process.pid)
    .map((m) => Number(m[1]));
}

/** The debuggee processes running this program now; there must be some while its session is paused. */
function debuggeesOf(programPath) {
  const pids = processesWith(programPath);
  if (pids.length === 0) throw new Error(`no process runs ${programPath} while its session is paused`);
  return pids;
}

/** Waits until none of these processes lives on. */
async function waitForExit(pids, what) {
  await waitFor(`${what} (pids ${pids.join(', ')}) to end`, async () => {
    const alive = processesWith('').filter((pid) => pids.includes(pid));
    return alive.length === 0;
  }, T.debug);
}

function killProcessesOf(programPath) {
  for (const pid of processesWith(programPath)) {
    log(`  ending leftover debuggee ${pid} (${programPath})`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Starts deadlocked.py outside VS Code (as a service would run) and waits until its loop is deadlocked. */
async function startService(python, programPath) {
  const child = spawn(python, ['-u', programPath], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  await waitFor(`${programPath} to say READY`, async () => /READY \d+/.test(out), T.ui).catch((error) => { child.kill('SIGKILL'); throw error; });
  return child;
}

/** The program's lines in the Debug Console: everything but the adapter's own '[loopscope] …' notes. */
async function programOutput(wb) {
  return (await wb.debugConsoleText()).filter((line) => !line.startsWith('[loopscope]'));
}

/** Waits until the Debug Console holds exactly `expected` (the program's lines; `normalize` maps each line first). */
async function expectProgramOutput(wb, expected, what, normalize = (line) => line) {
  let lines = [];
  await waitFor(`the Debug Console to hold exactly ${what}`, async () => {
    lines = await programOutput(wb);
    return JSON.stringify(lines.map(normalize)) === JSON.stringify(expected);
  }).catch(() => {
    throw new Error(`the Debug Console should hold exactly ${what} ${JSON.stringify(expected)}, but holds ${JSON.stringify(lines)}`);
  });
  return lines;
}

/** interleave.py's lines 'a 1 1234.567890' without the time, for comparing: 'a 1'. */
function nameAndCounter(line) {
  return /^([ab]) (\d+) \d+\.\d+$/.test(line) ? line.split(' ').slice(0, 2).join(' ') : `unexpected: ${line}`;
}

function interleaveLines(iterations) {
  const expected = [];
  for (let i = 1; i <= iterations; i++) expected.push(`a ${i}`, `b ${i}`);
  return expected;
}

/** Tree rows with the label of the group row (level 1) each deeper row is under: [{ ...row, group }]. */
function withGroups(rows) {
  let group;
  return rows.map((row) => {
    if (row.level === 1) group = row.label;
    return { ...row, group: row.level === 1 ? undefined : group };
  });
}

/** 'Ready (2)' → 'Ready'. */
function groupState(label) {
  return (label ?? '').replace(/\s*\(.*\)$/, '');
}

function describeRows(rows) {
  return JSON.stringify(rows.map((r) => `${'  '.repeat(Math.max((r.level ?? 1) - 1, 0))}${r.label}${r.description ? ` — ${r.description}` : ''}`));
}

/** Waits until a tree view's rows satisfy `check(rows)` (which returns a truthy value); the error shows the rows. */
async function waitForTree(wb, title, what, check, timeout = T.ui) {
  let rows = [];
  return waitFor(`${title} to show ${what}`, async () => {
    rows = withGroups(await wb.treeRows(title));
    return check(rows);
  }, timeout).catch((error) => {
    throw new Error(`${error.message.replace(/; last seen:.*$/s, '')}; ${title} shows ${describeRows(rows)}`);
  });
}

/** Waits for the status bar item 'Loop iteration N · t=T' with this N; returns T. */
async function waitForStatusIteration(wb, iteration) {
  let text;
  await waitFor(`the status bar to show 'Loop iteration ${iteration} · t=…'`, async () => {
    text = await wb.statusBarItem(STATUS_ITEM);
    return text !== undefined && new RegExp(`^Loop iteration ${iteration} · t=\\d+\\.\\d{3}$`).test(text);
  }).catch((error) => { throw new Error(`${error.message.replace(/; last seen:.*$/s, '')}; it shows ${JSON.stringify(text ?? '(no such item)')}`); });
  return Number(/t=(\S+)$/.exec(text)[1]);
}

const knownIssuesSeen = new Set();

/**
 * A defect seen on screen that is known and reported: logged loudly, and a failure when
 * LOOPSCOPE_E2E_STRICT=1. Remove the call once the defect is fixed.
 */
function knownIssue(id, message) {
  if (process.env.LOOPSCOPE_E2E_STRICT === '1') throw new Error(`known issue ${id}: ${message}`);
  knownIssuesSeen.add(id);
  log(`  KNOWN ISSUE ${id}: ${message} (fails with LOOPSCOPE_E2E_STRICT=1)`);
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
 * Runs one part of the scenario (several steps on one program). A failed step ends the part: the
 * failure is kept, the part's debug session is ended, and the next part runs on a clean workbench.
 */
const failures = [];
async function part(title, wb, programPath, body) {
  log(`--- ${title} ---`);
  try {
    await body();
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    failures.push(error.message);
    log(`FAILED: ${error.message}`);
    if (error.cause?.stack) log(error.cause.stack.split('\n').slice(1, 4).join('\n'));
    log(`  the rest of '${title}' is skipped; ending its debug session`);
    await wb.stopAnySession();
    killProcessesOf(programPath);
    if ((await wb.notifications()).length) await wb.clearNotifications().catch(() => {});
  }
}

/**
 * The README's screenshot: the Loopscope views in the side bar, with Variables, and the editor. Watch,
 * Call Stack and Breakpoints are collapsed for it and the views sized to their rows; afterwards Call
 * Stack and Breakpoints are expanded again. Arranging is best effort: the shot is taken anyway.
 */
async function saveReadmeScreenshot(wb) {
  const page = wb.page;
  try {
    for (const title of ['Watch', 'Call Stack', 'Breakpoints']) await wb.collapseView(title);
    await wb.waitForView('Variables');
    const heights = [await wb.resizeView('Asyncio Tasks', 175), await wb.resizeView('Event Loop', 180)];
    log(`  views resized for the README screenshot: Asyncio Tasks ${heights[0]} px, Event Loop ${heights[1]} px`);
    await wb.treeRow('Asyncio Tasks', 'consumer-1').waitFor({ timeout: T.ui });
    // No sash left highlighted by the drags.
    await waitFor('the side bar sashes to settle', async () => !(await page.locator('.part.sidebar .monaco-sash.hover, .part.sidebar .monaco-sash.active').count()));
  } catch (error) {
    log(`  (could not arrange the views for the README screenshot: ${error.message})`);
  }
  const viewport = page.viewportSize();
  const clip = { x: 0, y: 0, width: Math.min(1120, viewport.width), height: viewport.height };
  const path = join(SCREENSHOTS, 'views.png');
  await page.screenshot({ path, clip });
  const size = statSync(path).size;
  log(`  README screenshot: ${path} (${clip.width}x${clip.height}, ${Math.round(size / 1024)} KB)`);
  if (size > 300 * 1024) log(`  WARNING: the README screenshot is ${Math.round(size / 1024)} KB, over 300 KB`);
  if (process.env.LOOPSCOPE_E2E_README_SCREENSHOT === '1') {
    mkdirSync(dirname(README_SCREENSHOT), { recursive: true });
    copyFileSync(path, README_SCREENSHOT);
    log(`  copied to ${README_SCREENSHOT}`);
  }
  for (const title of ['Call Stack', 'Breakpoints']) await wb.waitForView(title);
}

async function main() {
  const started = Date.now();
  lockScratch();
  const dirs = freshDirectories();
  const python = pythonForPrograms();
  prepareWorkspace(dirs.workspace, python);
  const path = Object.fromEntries(Object.entries(PROGRAMS).map(([key, p]) => [key, join(dirs.workspace, p.file)]));
  log(`workspace ${dirs.workspace}, Python ${python}, screenshots in ${SCREENSHOTS}`);

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

    // --- 1 and 2. interleave.py: entry, the views, three loop iterations ----------------------
    await part('1-2. interleave.py: entry stop, Loopscope views, three Step Loop Iterations', wb, path.interleave, async () => {
      await step(`1. start '${PROGRAMS.interleave.config}' with the Run and Debug start button`, async () => {
        await wb.startDebugging(PROGRAMS.interleave.config);
      });
      let stopStates = await step('1. the session stops on entry', async () => {
        const states = await wb.waitForStop({ matching: ENTRY });
        await wb.waitForToolbarButton('Continue');
        const frames = await wb.callStackRows();
        if (!frames.some((row) => row.includes('interleave.py'))) throw new Error(`Call Stack shows no frame of interleave.py: ${JSON.stringify(frames)}`);
        await waitFor('the editor to show interleave.py with the stack frame arrow', async () =>
          (await wb.activeEditor()).tab.startsWith('interleave.py') && (await wb.topStackFrameLines()).length > 0);
        const output = await programOutput(wb);
        if (output.length) throw new Error(`the program printed before its first iteration: ${JSON.stringify(output)}`);
        debuggeesOf(path.interleave);
        log(`  Call Stack states: ${JSON.stringify(states)}`);
        return states;
      });
      await step('1. the Asyncio Tasks, Futures, Event Loop and Task Switches views and the Step Loop Iteration button appear', async () => {
        const contributed = pkg.contributes?.views?.debug ?? [];
        for (const view of LOOPSCOPE_VIEWS) {
          const title = contributed.find((c) => c.id === view.id)?.name;
          if (!title) throw new Error(`package.json contributes no view ${view.id} ('${view.title}') to the debug container`);
          await wb.waitForView(title, T.debug).catch((error) => { throw new Error(`view '${title}' (${view.id}) does not appear: ${error.message}`); });
        }
        const toolbar = pkg.contributes?.menus?.['debug/toolBar'] ?? [];
        if (!toolbar.some((m) => m.command === STEP_ITERATION.command)) throw new Error(`package.json puts no ${STEP_ITERATION.command} on debug/toolBar`);
        await wb.waitForToolbarButton(STEP_ITERATION.title);
        // At the entry stop the loop has run no iteration yet.
        await waitForTree(wb, 'Event Loop', "'Iteration 0'", (rows) => rows.some((r) => r.label === 'Iteration 0'));
        await waitForStatusIteration(wb, 0);
      });
      for (let iteration = 1; iteration <= 3; iteration++) {
        stopStates = await step(`2. Step Loop Iteration #${iteration} runs loop iteration ${iteration}`, async () => {
          await wb.clickToolbar(STEP_ITERATION.title);
          const states = await wb.waitForStop({ changedFrom: stopStates });
          await expectProgramOutput(wb, interleaveLines(iteration), `the output of ${iteration} iteration(s)`, nameAndCounter);
          await waitForStatusIteration(wb, iteration);
          log(`  Call Stack states: ${JSON.stringify(states)}`);
          return states;
        });
      }
      await step('2. the Event Loop view shows iteration 3 and the loop time', async () => {
        const rows = await waitForTree(wb, 'Event Loop', "'Iteration 3' and the loop time", (rows) =>
          rows.some((r) => r.label === 'Iteration 3') && rows.some((r) => /^Loop time t=\d+\.\d{3}$/.test(r.label)) && rows);
        const time = Number(/t=(\S+)$/.exec(rows.find((r) => r.label.startsWith('Loop time')).label)[1]);
        const loopRow = rows.find((r) => r.level === 1 && /^Event loop 1\b/.test(r.label));
        if (!loopRow || loopRow.description !== `iteration 3 · t=${time.toFixed(3)}`) {
          throw new Error(`the loop's row should read 'iteration 3 · t=${time.toFixed(3)}': ${describeRows(rows)}`);
        }
        const status = await waitForStatusIteration(wb, 3);
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
        const debuggees = debuggeesOf(path.interleave);
        await wb.clickToolbar('Stop');
        await wb.waitForSessionEnd();
        await waitForExit(debuggees, 'the interleave.py debuggee');
        await expectProgramOutput(wb, interleaveLines(3), 'the output of 3 iterations and nothing after', nameAndCounter);
        if (await wb.statusBarItem(STATUS_ITEM)) throw new Error(`the status bar still shows '${await wb.statusBarItem(STATUS_ITEM)}'`);
      });
    });

    // --- 3. producer_consumer.py: function breakpoint on a task name -------------------------
    await part(`3. producer_consumer.py: function breakpoint on task '${TASK_BREAKPOINT}'`, wb, path.producer, async () => {
      await step(`3. add function breakpoint '${TASK_BREAKPOINT}' with the Breakpoints view's '+'`, async () => {
        await wb.showRunAndDebug();
        await wb.addFunctionBreakpoint(TASK_BREAKPOINT);
      });
      await step(`3. start '${PROGRAMS.producer.config}'; it stops on entry`, async () => {
        await wb.startDebugging(PROGRAMS.producer.config);
        await wb.waitForStop({ matching: ENTRY });
        debuggeesOf(path.producer);
      });
      await step(`3. Continue stops on task '${TASK_BREAKPOINT}': its resume line, the tasks as threads, its locals`, async () => {
        await wb.clickToolbar('Continue');
        const line = lineOf(path.producer, 'async def consume(');
        const onTask = (t) => t.thread?.startsWith(`${TASK_BREAKPOINT} · `);
        const atConsume = (t) => { const top = t.frames.find((f) => !f.label); return top?.name === 'consume' && top.file === 'producer_consumer.py' && top.line === line; };
        const { threads } = await wb.waitForThread(`task '${TASK_BREAKPOINT}' stopped in consume() at producer_consumer.py:${line}`,
          (t) => onTask(t) && atConsume(t));
        const names = threads.map((t) => t.thread);
        for (const wanted of ['Task-1 · main', 'consumer-1 · consume', `${TASK_BREAKPOINT} · consume`, 'producer · produce']) {
          if (!names.includes(wanted)) throw new Error(`the Call Stack lists no thread '${wanted}': ${JSON.stringify(names)}`);
        }
        let variables = [];
        const showsLocal = async () => {
          variables = await wb.viewRows('Variables');
          return variables.includes(`name = '${TASK_BREAKPOINT}'`);
        };
        const what = `Variables to show name = '${TASK_BREAKPOINT}' (a local of consume())`;
        await waitFor(what, showsLocal).catch(async () => {
          // Seen once in CI: Variables still showed the entry stop's frame 15 s on (the screenshot
          // taken just after showed the right one). A user would click the frame: do that, then check.
          log(`  Variables still show ${JSON.stringify(variables.slice(0, 3))}; selecting consume() of '${TASK_BREAKPOINT}' in the Call Stack`);
          await wb.selectStackFrame(`${TASK_BREAKPOINT} · `, 'consume');
          await waitFor(what, showsLocal);
        }).catch((error) => { throw new Error(`${error.message}; Variables ${JSON.stringify(variables)}`); });
        await waitFor(`the editor to show producer_consumer.py at line ${line}`, async () => {
          const editor = await wb.activeEditor();
          const marked = await wb.topStackFrameLines();
          return editor.tab.startsWith('producer_consumer.py') && editor.line === line && marked.includes(line) ? editor : undefined;
        }).catch(async (error) => {
          throw new Error(`${error.message}; editor: ${JSON.stringify(await wb.activeEditor())}, stack frame marked on lines ${JSON.stringify(await wb.topStackFrameLines())}`);
        });
        log(`  Call Stack: ${JSON.stringify(threads.map((t) => `${t.thread ?? '(one thread)'}: ${t.state}`))}`);
        // What the Call Stack says about the stop: the task's state names it; no thread still claims the entry stop.
        const now = await wb.callStack(); // read again: the editor took a moment, so the view has settled
        const task = now.find(onTask);
        if (!task?.state.includes(TASK_BREAKPOINT) || now.some((t) => ENTRY.test(t.state))) {
          knownIssue('stale-stop-description', `Call Stack states ${JSON.stringify(now.map((t) => `${t.thread ?? '(one thread)'}: ${t.state}`))} ` +
            `though stopped on task ${TASK_BREAKPOINT}. VS Code fires its own 'continued' after the continue response only if no stopped ` +
            'event came in the meantime (RawDebugSession.continue checks stoppedSinceLastStep); when the stop comes at once, the other ' +
            "threads keep the entry stop's reason. The adapter sending a 'continued' event before answering continue (as it does for " +
            'Step Loop Iteration) fixes it');
        }
        // The stopped task's row must show its name, not only the stop's description.
        const shown = (await wb.renderedThreadNames()).find((t) => t.name === `${TASK_BREAKPOINT} · consume`);
        if (shown && shown.width === 0) {
          knownIssue('hidden-thread-name', `the Call Stack row of the stopped task shows only its state "${task?.state}": ` +
            `the name '${shown.name}' is squeezed to 0 px by that long description`);
        }
      });
      await step('3. the Loopscope views show the stop (the README screenshot)', async () => {
        const rows = await waitForTree(wb, 'Asyncio Tasks', 'Task-1, consumer-1, consumer-2 and producer', (rows) =>
          ['Task-1', 'consumer-1', TASK_BREAKPOINT, 'producer'].every((name) => rows.some((r) => r.level === 2 && r.label === name)) && rows);
        const loop = await waitForTree(wb, 'Event Loop', 'the loop with its iteration and time', (rows) =>
          rows.some((r) => r.level === 1 && /^iteration \d+ · t=\d+\.\d{3}$/.test(r.description)) && rows);
        log(`  Asyncio Tasks: ${describeRows(rows)}`);
        log(`  Event Loop: ${describeRows(loop)}`);
        log(`  Futures: ${describeRows(await wb.treeRows('Futures'))}`);
        log(`  Task Switches: ${describeRows(await wb.treeRows('Task Switches'))}`);
        await saveReadmeScreenshot(wb);
      });
      await step('3. Stop ends the producer_consumer session', async () => {
        const debuggees = debuggeesOf(path.producer);
        await wb.clickToolbar('Stop');
        await wb.waitForSessionEnd();
        await waitForExit(debuggees, 'the producer_consumer.py debuggee');
        const frames = await wb.callStackRows();
        if (frames.length) throw new Error(`Call Stack still shows ${JSON.stringify(frames)}`);
      });
    });

    // --- 4. cancel_worker.py: Cancel Task from the Asyncio Tasks view ------------------------
    await part(`4. cancel_worker.py: Cancel Task on '${CANCELLED_TASK}'`, wb, path.cancel, async () => {
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
          await waitForStatusIteration(wb, iteration);
        }
        await expectProgramOutput(wb, ['worker: started'], 'the worker\'s first line');
        const rows = await waitForTree(wb, 'Asyncio Tasks', `'${CANCELLED_TASK}' waiting in a sleep`, (rows) =>
          rows.some((r) => r.label === CANCELLED_TASK && groupState(r.group) === 'Waiting' && /sleep/.test(r.description)) && rows);
        // The sleep is the loop's one timer; expanded, it is due in 10 s (the frozen clock left out the pauses).
        await waitForTree(wb, 'Event Loop', "'Timers 1'", (rows) => rows.some((r) => r.label === 'Timers' && r.description === '1'));
        const timers = wb.treeRow('Event Loop', 'Timers');
        if ((await timers.getAttribute('aria-expanded')) === 'false') await timers.locator('.monaco-tl-twistie').click();
        const loop = await waitForTree(wb, 'Event Loop', "a timer 'due in 10.000 s' of the worker", (rows) =>
          rows.some((r) => /^due in (10\.000|9\.99\d) s$/.test(r.label) && r.description.endsWith(`· ${CANCELLED_TASK}`)) && rows);
        log(`  Asyncio Tasks: ${describeRows(rows)}`);
        log(`  Event Loop: ${describeRows(loop)}`);
      });
      await step(`4. Cancel Task from the context menu of '${CANCELLED_TASK}' in Asyncio Tasks`, async () => {
        await wb.chooseFromContextMenu(wb.treeRow('Asyncio Tasks', CANCELLED_TASK), 'Cancel Task');
        // Cancelled, the task is woken to receive CancelledError: it no longer waits.
        const rows = await waitForTree(wb, 'Asyncio Tasks', `'${CANCELLED_TASK}' no longer waiting`, (rows) =>
          rows.some((r) => r.label === CANCELLED_TASK && r.group && groupState(r.group) !== 'Waiting') && rows);
        log(`  Asyncio Tasks: ${describeRows(rows)}`);
        if (!(await wb.paused())) throw new Error('the session no longer is paused after Cancel Task');
      });
      await step(`4. Continue: the program prints the cancellation and ends with exit code ${CANCEL_EXIT_CODE}`, async () => {
        const debuggees = debuggeesOf(path.cancel);
        await wb.clickToolbar('Continue');
        await wb.waitForSessionEnd();
        await waitForExit(debuggees, 'the cancel_worker.py debuggee');
        await expectProgramOutput(wb, ['worker: started', 'worker: cancelled', `main: the worker was cancelled; exiting with code ${CANCEL_EXIT_CODE}`],
          'the worker\'s cancellation and main\'s outcome');
        const codes = notedExitCodes(path.cancel);
        if (codes.at(-1) !== CANCEL_EXIT_CODE) throw new Error(`the program exited with code ${codes.at(-1)}, not ${CANCEL_EXIT_CODE} (noted: ${JSON.stringify(codes)})`);
        const all = await wb.debugConsoleText();
        const note = all.find((line) => /exit(ed)? (with )?code/i.test(line) && !line.startsWith('main:'));
        if (!note) {
          knownIssue('exit-code-not-shown', `the program exited with code ${CANCEL_EXIT_CODE} but nothing on screen says so: the adapter sends it ` +
            'only in the DAP exited event, which VS Code does not display (the Debug Console holds ' + JSON.stringify(all) + ')');
        } else if (!note.includes(String(CANCEL_EXIT_CODE))) {
          throw new Error(`the Debug Console says "${note}", but the program exited with code ${CANCEL_EXIT_CODE}`);
        }
        if (await wb.statusBarItem(STATUS_ITEM)) throw new Error(`the status bar still shows '${await wb.statusBarItem(STATUS_ITEM)}'`);
      });
    });

    // --- 5. deadlocked.py, started outside VS Code: attach with the process picker -------------
    const attachPath = join(dirs.workspace, ATTACH.file);
    await part(`5. ${ATTACH.file}: attach from the process picker, Disconnect, then Stop`, wb, attachPath, async () => {
      const service = await step(`5. start ${ATTACH.file} outside VS Code; its loop is deadlocked`, async () => startService(python, attachPath));
      for (const ending of ['Disconnect', 'Stop']) {
        await step(`5. start '${ATTACH.config}', pick process ${service.pid} in the picker; it stops 'attached'`, async () => {
          await wb.startDebugging(ATTACH.config, { pick: async (picker) => {
            await picker.locator('input').fill(String(service.pid));
            const row = picker.locator('.monaco-list-row').filter({ hasText: String(service.pid) }).first();
            await row.waitFor({ timeout: T.ui });
            const text = oneLine(await row.innerText());
            if (!/Python 3\.\d+/.test(text) || !text.includes(ATTACH.file)) throw new Error(`the picker's row for ${service.pid} reads "${text}"`);
            log(`  picker row: ${text}`);
            await picker.locator('input').press('Enter');
          } });
          await wb.waitForStop({ matching: /attached/ });
          await waitForTree(wb, 'Asyncio Tasks', `both deadlocked tasks waiting`, (rows) => ATTACH.tasks.every((name) =>
            rows.some((r) => r.label === name && groupState(r.group) === 'Waiting')) && rows);
        });
        if (ending === 'Disconnect') {
          await step('5. Disconnect ends the session; the service runs on', async () => {
            await wb.clickToolbar('Disconnect');
            await wb.waitForSessionEnd();
            if (!processesWith(attachPath).includes(service.pid)) throw new Error(`the service (pid ${service.pid}) ended with the session`);
          });
        } else {
          await step('5. Stop (Alt on Disconnect) detaches and offers to end the service; End Process ends it', async () => {
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
            await waitForExit([service.pid], `the service ${ATTACH.file}`);
          });
        }
      }
    });

    await step('no error notifications are left', async () => {}); // the check after each step does it
  } finally {
    await browser?.context.close().catch(() => {});
    await server.stop();
    // Debuggees run in sessions of their own, outside code-server's process group: end any left over.
    killProcessesOf(dirs.workspace);
  }
  const known = knownIssuesSeen.size ? `; known issue(s) ${[...knownIssuesSeen].join(', ')}` : '';
  log(`${failures.length ? 'FAILED' : 'PASSED'} in ${((Date.now() - started) / 1000).toFixed(1)} s${known}; screenshots in ${SCREENSHOTS}`);
}

function summary() {
  const { passed, failed } = stepCounts();
  return `${passed} passed, ${failed} failed`;
}

main().then(() => {
  if (failures.length) {
    for (const failure of failures) console.error(`[e2e] FAILED: ${failure}`);
    console.error(`[e2e] screenshots: ${SCREENSHOTS}; code-server log: ${join(RUN, 'code-server.log')}; ` +
      `extension host logs: ${join(RUN, 'user-data', 'logs')}; browser errors: ${join(RUN, 'browser-console.log')}`);
  }
  console.log(summary());
  process.exit(failures.length ? 1 : 0);
}, (error) => {
  const message = error instanceof StepError ? error.message : `${error?.stack ?? error}`;
  for (const failure of failures) console.error(`[e2e] FAILED: ${failure}`);
  console.error(`[e2e] FAILED: ${message}`);
  if (error instanceof StepError && error.cause?.stack) console.error(error.cause.stack.split('\n').slice(1, 6).join('\n'));
  console.error(`[e2e] screenshots: ${SCREENSHOTS}; code-server log: ${join(RUN, 'code-server.log')}; ` +
    `extension host logs: ${join(RUN, 'user-data', 'logs')}; browser errors: ${join(RUN, 'browser-console.log')}`);
  console.log(summary());
  process.exit(1);
});
