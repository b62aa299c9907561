// Stop, disconnect and restart as in debugpy, through the bundled adapter with real Pythons: the
// program cleans up on terminate (running or held), one that will not is ended hard with all it
// started, a program let go runs on unhooked to its own end, and restart launches it again.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually, fixture, markers, processAlive, PYTHON, Session, supportedPythons, within, withSession } from './harness';

const cleanup = fixture('process/cleanup.py');
const runsOn = fixture('process/runs_on.py');
const CLEANUP_LINES = ['worker cleanup', 'main cleanup', 'program cleanup'];

const programPid = async (s: Session) => (await s.next('process')).body.systemProcessId as number;

describe('process control', () => {
  for (const python of supportedPythons()) {
    describe(`on Python ${python.version}`, () => {
      it('terminate lets a running program clean up: KeyboardInterrupt, finally blocks, asyncio.run\'s cancellation', () => withSession(async (s) => {
        await s.launch({ program: cleanup, python: python.path });
        const pid = await programPid(s);
        await s.outputMatching(/worker running/);
        await s.client.terminateRequest({});
        const exited = await s.next('exited');
        await s.next('terminated');
        for (const line of CLEANUP_LINES) assert.match(s.text('stdout'), new RegExp(`${line}\n`), line);
        assert.match(s.text('stderr'), /KeyboardInterrupt/);
        assert.equal(exited.body.exitCode, 130, 'ends by SIGINT, as after Ctrl+C');
        assert.doesNotMatch(s.text('console'), /killed by/);
        await eventually(() => !processAlive(pid), `program ${pid} is gone`);
      }));

      it('terminate releases a held program for its cleanup', () => withSession(async (s) => {
        await s.launch({ program: cleanup, python: python.path }, () =>
          s.client.setBreakpointsRequest({ source: { path: cleanup }, breakpoints: [{ line: markers(cleanup)('worker') }] }));
        const stop = await s.nextStop();
        assert.equal(stop.body.reason, 'breakpoint');
        await s.client.terminateRequest({});
        assert.equal((await s.next('exited')).body.exitCode, 130);
        // The interrupt lands where the program was held, as Ctrl+C would: the held line may not have run.
        for (const line of CLEANUP_LINES) assert.match(s.text('stdout'), new RegExp(`${line}\n`), line);
      }));

      it('terminate while held between iterations interrupts the program there, as Ctrl+C would', () => withSession(async (s) => {
        const program = fixture('process/manual_loop.py');
        await s.launch({ program, python: python.path, stopOnEntry: true });
        assert.equal((await s.nextStop()).body.reason, 'entry');
        await s.client.terminateRequest({});
        assert.equal((await s.next('exited')).body.exitCode, 130);
        assert.match(s.text('stdout'), /program cleanup\n/);
        assert.doesNotMatch(s.text('stdout'), /spun/, 'the loop ran on after Stop');
        assert.match(s.text('stderr'), /KeyboardInterrupt/);
        assert.doesNotMatch(s.text('stderr'), /loopscope/, 'Loopscope\'s frames in the traceback');
      }));

      it('disconnect without terminating leaves the program running unhooked, to its own end', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-test-'));
        const exitFile = path.join(dir, 'exit');
        const session = new Session({ LOOPSCOPE_TEST_REAL_PYTHON: python.path, LOOPSCOPE_TEST_EXIT_FILE: exitFile });
        await session.start();
        let pid = 0;
        try {
          await session.launch({ program: runsOn, python: fixture('process/record_exit.sh'), args: ['40'] }, () =>
            session.client.setBreakpointsRequest({ source: { path: runsOn }, breakpoints: [{ line: markers(runsOn)('tick'), hitCondition: '3' }] }));
          const stop = await session.nextStop();
          pid = Number((await session.client.evaluateRequest({ expression: '__import__("os").getpid()', frameId: (await session.topFrame(stop.body.threadId)).id })).body.result);
          assert.match(session.text('stdout'), /tick 1 traced=/);
          await session.client.disconnectRequest({ terminateDebuggee: false });
          const said = /runs on without Loopscope\. Its output goes to (\S+) from now on\./.exec(session.text('console'));
          assert.ok(said, session.text('console'));
          await session.client.stop(); // the adapter goes: the program must not go with it
          await eventually(() => existsSync(exitFile), 'the program has ended on its own', 20_000);
          assert.equal(readFileSync(exitFile, 'utf8').trim(), '5', 'its own exit code');
          const log = readFileSync(said![1], 'utf8');
          assert.match(log, /tick 39 traced=False hooked=False monitored=False\n/);
          assert.match(log, /^threads 1$/m, 'no thread of Loopscope\'s is left in it');
          assert.doesNotMatch(log, /loopscope|Traceback/);
          await eventually(() => !processAlive(pid), `program ${pid} is gone`);
          rmSync(said![1], { force: true });
        } finally {
          if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }

  it('ends a program that ignores KeyboardInterrupt within terminateTimeout, and what it started', () => withSession(async (s) => {
    await s.launch({ program: fixture('process/ignores_interrupt.py'), terminateTimeout: 1 });
    const pid = await programPid(s);
    const grandchild = Number((await s.outputMatching(/grandchild (\d+)/))[1]);
    await s.client.terminateRequest({});
    await within(s.next('exited'), 10_000, 'the program was not ended');
    assert.match(s.text('stdout'), /ignoring SIGINT/, 'it was asked first');
    await eventually(() => !processAlive(pid) && !processAlive(grandchild), 'the program and its grandchild are gone');
  }));

  it('a disconnect during a terminate (a second Stop) ends the program at once', () => withSession(async (s) => {
    await s.launch({ program: fixture('process/ignores_interrupt.py'), terminateTimeout: 60 });
    const pid = await programPid(s);
    await s.outputMatching(/grandchild/);
    await s.client.terminateRequest({});
    await s.outputMatching(/ignoring SIGINT/);
    await within(s.client.disconnectRequest({ terminateDebuggee: true }), 10_000, 'disconnect did not end the program');
    await eventually(() => !processAlive(pid), `program ${pid} is gone`);
  }));

  it('restart ends the program as terminate does and launches it again, with new arguments and the same breakpoints', () => withSession(async (s) => {
    const line = markers(cleanup)('worker');
    await s.launch({ program: cleanup, args: ['first'] }, () =>
      s.client.setBreakpointsRequest({ source: { path: cleanup }, breakpoints: [{ line }] }));
    const firstPid = await programPid(s);
    await s.nextStop();
    assert.match(s.text('stdout'), /argv \['first'\]/);
    await s.client.restartRequest({ arguments: { type: 'loopscope', request: 'launch', program: cleanup, args: ['second'], python: PYTHON } as never });
    const secondPid = await programPid(s);
    assert.notEqual(secondPid, firstPid);
    const stop = await s.nextStop();
    assert.equal(stop.body.reason, 'breakpoint', 'the breakpoint survived');
    assert.equal((await s.topFrame(stop.body.threadId)).line, line);
    const out = s.text('stdout');
    for (const cleaned of CLEANUP_LINES) assert.ok(out.indexOf(cleaned) < out.indexOf("argv ['second']"), `${cleaned} of the first run`);
    assert.ok(!s.timeline.includes('exited:') && !s.timeline.includes('terminated:'), 'the session went on');
    assert.ok(!processAlive(firstPid));
    await s.client.terminateRequest({});
    await s.next('terminated');
  }));

  it('advertises terminateDebuggee and restart', () => withSession(async (s) => {
    const { body } = await s.client.initializeRequest({ adapterID: 'loopscope', pathFormat: 'path' });
    assert.equal(body?.supportTerminateDebuggee, true);
    assert.equal(body?.supportsRestartRequest, true);
    assert.equal(body?.supportsTerminateRequest, true);
  }));
});
