// What the scenario's parts share on top of harness.mjs: reading the programs' lines and processes,
// waiting for a tree view or the Debug Console to show something (the error shows what they showed),
// the status bar's loop position, and known issues (defects seen on screen, logged, not failed).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { T, log, waitFor } from './harness.mjs';

/** The end of the id of the status bar item 'Loop before iteration N · t=…'. */
export const STATUS_ITEM = 'loopscope.loopIteration';

/** How the Call Stack states the entry stop: the stop's label ('entry'), or a sentence about it. */
export const ENTRY = /before the first iteration|on entry|^entry$/i;

/** The 1-based number of the first line of `file` that starts with `prefix` (after indentation). */
export function lineOf(file, prefix) {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.trimStart().startsWith(prefix));
  if (index < 0) throw new Error(`no line starting with '${prefix}' in ${file}`);
  return index + 1;
}

/** The 1-based number of the line of `file` marked `# @marker` (as test/fixtures/ mark theirs). */
export function lineOfMarker(file, marker) {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => new RegExp(`#\\s*@${marker}\\b`).test(line));
  if (index < 0) throw new Error(`no line marked '# @${marker}' in ${file}`);
  return index + 1;
}

// --- the debuggees -----------------------------------------------------------------------------

/** Pids of the live (not zombie) processes whose command line holds `text`: the debuggee of a program, say. */
export function processesWith(text) {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out.split('\n').map((line) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m) => m && !m[2].startsWith('Z') && m[3].includes(text) && Number(m[1]) !== process.pid)
    .map((m) => Number(m[1]));
}

/** The debuggee processes running this program now; there must be some while its session is paused. */
export function debuggeesOf(programPath) {
  const pids = processesWith(programPath);
  if (pids.length === 0) throw new Error(`no process runs ${programPath} while its session is paused`);
  return pids;
}

/** Waits until none of these processes lives on. */
export async function waitForExit(pids, what) {
  await waitFor(`${what} (pids ${pids.join(', ')}) to end`, async () => {
    const alive = processesWith('').filter((pid) => pids.includes(pid));
    return alive.length === 0;
  }, T.debug);
}

export function killProcessesOf(programPath) {
  for (const pid of processesWith(programPath)) {
    log(`  ending leftover debuggee ${pid} (${programPath})`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Clicks Stop on the debug toolbar and waits for the session and its debuggee to end. */
export async function stopSession(wb, programPath, what) {
  const debuggees = debuggeesOf(programPath);
  await wb.clickToolbar('Stop');
  await wb.waitForSessionEnd();
  await waitForExit(debuggees, what);
}

// --- the Debug Console -------------------------------------------------------------------------

/** The program's lines in the Debug Console: everything but the adapter's own '[loopscope] …' notes. */
export async function programOutput(wb) {
  return (await wb.debugConsoleText()).filter((line) => !line.startsWith('[loopscope]'));
}

/** Waits until the Debug Console holds exactly `expected` (the program's lines, those `keep` keeps;
 * `normalize` maps each line first). */
export async function expectProgramOutput(wb, expected, what, normalize = (line) => line, keep = () => true) {
  let lines = [];
  await waitFor(`the Debug Console to hold exactly ${what}`, async () => {
    lines = (await programOutput(wb)).filter(keep);
    return JSON.stringify(lines.map(normalize)) === JSON.stringify(expected);
  }).catch(() => {
    throw new Error(`the Debug Console should hold exactly ${what} ${JSON.stringify(expected)}, but holds ${JSON.stringify(lines)}`);
  });
  return lines;
}

/** Waits until a line of the Debug Console (the program's or the adapter's) matches `pattern`; returns it. */
export async function expectConsoleLine(wb, pattern, what, timeout = T.debug) {
  let lines = [];
  return waitFor(`the Debug Console to say ${what}`, async () => {
    lines = await wb.debugConsoleText();
    return lines.find((line) => pattern.test(line));
  }, timeout).catch(() => {
    throw new Error(`the Debug Console should say ${what} (${pattern}), but holds ${JSON.stringify(lines.slice(-20))}`);
  });
}

// --- tree views and the status bar -------------------------------------------------------------

/** Tree rows with the label of the group row (level 1) each deeper row is under: [{ ...row, group }]. */
export function withGroups(rows) {
  let group;
  return rows.map((row) => {
    if (row.level === 1) group = row.label;
    return { ...row, group: row.level === 1 ? undefined : group };
  });
}

/** 'Ready (2)' → 'Ready'. */
export function groupState(label) {
  return (label ?? '').replace(/\s*\(.*\)$/, '');
}

export function describeRows(rows) {
  return JSON.stringify(rows.map((r) => `${'  '.repeat(Math.max((r.level ?? 1) - 1, 0))}${r.label}${r.description ? ` — ${r.description}` : ''}`));
}

/** Waits until a tree view's rows satisfy `check(rows)` (which returns a truthy value); the error shows the rows. */
export async function waitForTree(wb, title, what, check, timeout = T.ui) {
  let rows = [];
  return waitFor(`${title} to show ${what}`, async () => {
    rows = withGroups(await wb.treeRows(title));
    return check(rows);
  }, timeout).catch((error) => {
    const shown = rows.length > 60 ? `${describeRows(rows.slice(0, 40)).slice(0, -1)},… (${rows.length} rows)]` : describeRows(rows);
    throw new Error(`${error.message.replace(/; last seen:.*$/s, '')}; ${title} shows ${shown}`);
  });
}

/**
 * Waits for the status bar item 'Loop <position> · t=T', where position says where the held loop is
 * ('before iteration 4' between iterations, 'in iteration 3' inside one); returns T.
 */
export async function waitForStatusPosition(wb, position) {
  let text;
  await waitFor(`the status bar to show 'Loop ${position} · t=…'`, async () => {
    text = await wb.statusBarItem(STATUS_ITEM);
    return text !== undefined && new RegExp(`^Loop ${position} · t=\\d+\\.\\d{3}$`).test(text);
  }).catch((error) => { throw new Error(`${error.message.replace(/; last seen:.*$/s, '')}; it shows ${JSON.stringify(text ?? '(no such item)')}`); });
  return Number(/t=(\S+)$/.exec(text)[1]);
}

/** Collapses the other views of Run and Debug so that `views` (expanded) share the side bar; others expand again when read. */
export async function giveRoomTo(wb, views) {
  for (const view of ['Variables', 'Watch', 'Call Stack', 'Breakpoints', 'Asyncio Tasks', 'Futures', 'Event Loop', 'Task Switches']) {
    if (views.includes(view)) await wb.waitForView(view);
    else await wb.collapseView(view);
  }
}

/** The top `height` px of a side bar view (its header and first rows), as a clip for saveScreenshot. */
export async function viewTop(wb, title, height) {
  const box = await wb.view(title).boundingBox();
  if (!box) throw new Error(`view '${title}' is not on screen for a screenshot`);
  return { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, height) };
}

/** Where the parts' README images go, or undefined unless LOOPSCOPE_E2E_README_SCREENSHOT=1 asks for them. */
export function readmeImage(path) {
  return process.env.LOOPSCOPE_E2E_README_SCREENSHOT === '1' ? path : undefined;
}

// --- known issues ------------------------------------------------------------------------------

const knownIssuesSeen = new Set();

/**
 * A defect seen on screen that is known and reported: logged loudly, and a failure when
 * LOOPSCOPE_E2E_STRICT=1. Remove the call once the defect is fixed.
 */
export function knownIssue(id, message) {
  if (process.env.LOOPSCOPE_E2E_STRICT === '1') throw new Error(`known issue ${id}: ${message}`);
  knownIssuesSeen.add(id);
  log(`  KNOWN ISSUE ${id}: ${message} (fails with LOOPSCOPE_E2E_STRICT=1)`);
}

export function knownIssuesSeenSoFar() {
  return [...knownIssuesSeen];
}
