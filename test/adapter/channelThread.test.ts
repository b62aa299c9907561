// The runtime's channel thread runs none of the program's code and does no I/O that can block: a
// Task subclass's get_name() that blocks or raises, or a breakpoint in a file that cannot be read
// (a FIFO, a hung network mount), must not hold up threads, pause or continue.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixture, markers, within, withSession } from './harness';

const SUBCLASSES = fixture('task_subclasses.py');
const at = markers(SUBCLASSES);

describe('channel thread: none of the program\'s code, no blocking I/O', () => {
  it("lists tasks whose get_name() blocks or raises, by asyncio's names, and continues", () => withSession(async (session) => {
    await session.launch({ program: SUBCLASSES }, () => session.client.setBreakpointsRequest({
      source: { path: SUBCLASSES }, breakpoints: [{ line: at('subclasses-pending') }],
    }));
    const stop = await session.nextStop();
    assert.equal(stop.body.reason, 'breakpoint');
    const { body } = await within(session.client.threadsRequest(), 10_000, 'no threads response');
    const names = body.threads.map((t) => t.name);
    assert.ok(names.includes('slow-task · wait_for'), names.join(', '));
    assert.ok(names.includes('broken-task · wait_for'), names.join(', '));
    // The views ask for the snapshot at every stop; it names the tasks the same way.
    const snapshot = await within(session.client.customRequest('loopscope/snapshot', {}), 10_000, 'no snapshot');
    const tasks = snapshot.body.loops[0].tasks.map((t: { name: string }) => t.name);
    assert.ok(tasks.includes('slow-task') && tasks.includes('broken-task'), tasks.join(', '));
    await within(session.client.continueRequest({ threadId: stop.body.threadId }), 10_000, 'no continue response');
    assert.equal((await session.next('exited')).body.exitCode, 0);
    assert.equal(session.text('stdout'), 'results [1, 2]\n');
  }));

  it('answers a breakpoint in a FIFO at once, unverified, and keeps answering threads and pause', () => withSession(async (session) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'loopscope-fifo-'));
    const fifo = path.join(scratch, 'breakpoints.py');
    execFileSync('mkfifo', [fifo]);
    try {
      await session.launch({ program: fixture('sleeper.py'), stopOnEntry: true });
      const stop = await session.nextStop();
      const { body } = await within(session.client.setBreakpointsRequest({ source: { path: fifo }, breakpoints: [{ line: 1 }] }),
        10_000, 'no setBreakpoints response');
      assert.equal(body.breakpoints[0].verified, false);
      assert.match(body.breakpoints[0].message!, /breakpoints\.py is not a regular file/);
      await within(session.client.threadsRequest(), 10_000, 'no threads response');
      await session.client.continueRequest({ threadId: stop.body.threadId });
      await within(session.client.pauseRequest({ threadId: stop.body.threadId }), 10_000, 'no pause response');
      assert.equal((await session.nextStop()).body.reason, 'pause');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }));
});
