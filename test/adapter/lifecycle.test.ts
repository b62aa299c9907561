// Exit codes, output order, bad input and process clean-up, with the real adapter and Python.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { eventually, fixture, FIXTURES, markers, processAlive, PYTHON, Session } from './harness';

async function run(args: Record<string, unknown>, body: (session: Session) => Promise<void>): Promise<void> {
  const session = new Session();
  await session.start();
  try {
    if (Object.keys(args).length) await session.launch(args);
    await body(session);
  } finally {
    await session.stop();
  }
}

describe('program lifecycle', () => {
  it('passes on the exit code of sys.exit inside a task', () => run({ program: fixture('exits.py'), args: ['exit3'] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 3);
    await s.next('terminated');
  }));

  it('reports an uncaught exception as Python does, without Loopscope frames', () => run({ program: fixture('exits.py'), args: ['raise'] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 1);
    const plain = spawnSync(PYTHON, [fixture('exits.py'), 'raise'], { cwd: FIXTURES });
    assert.equal(plain.status, 1);
    assert.equal(s.text('stderr'), plain.stderr.toString());
    assert.match(s.text('stderr'), /ValueError: boom\n$/);
    assert.doesNotMatch(s.text('stderr'), /loopscope|runpy/);
  }));

  it('says when the program was killed by a signal', () => run({ program: fixture('exits.py'), args: ['kill'] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 137);
    assert.match(s.text('console'), /killed by SIGKILL/);
  }));

  it('ends on os._exit inside a task with its code', () => run({ program: fixture('exits.py'), args: ['_exit'] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 7);
    await s.next('terminated');
  }));

  it('ends on KeyboardInterrupt inside a task as Python does', () => run({ program: fixture('exits.py'), args: ['interrupt'] }, async (s) => {
    // Python reports an uncaught KeyboardInterrupt by ending through SIGINT: shells show 130.
    const plain = spawnSync(PYTHON, [fixture('exits.py'), 'interrupt'], { cwd: FIXTURES });
    assert.equal(plain.signal, 'SIGINT');
    assert.equal((await s.next('exited')).body.exitCode, 130);
    await s.next('terminated');
    assert.equal(s.text('stderr'), plain.stderr.toString());
    assert.match(s.text('stderr'), /KeyboardInterrupt\n$/);
  }));

  it('delivers stdout and stderr in order, all of it before the stop that follows', () => run({}, async (s) => {
    await s.launch({ program: fixture('exits.py'), args: ['ok'] }, () =>
      s.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main' }] }));
    const started = await s.nextStop(); // main starts, at its first line: nothing printed yet
    assert.equal(started.body.loopscope.where, 'code');
    await s.client.continueRequest({ threadId: started.body.threadId });
    // main prints four lines, then awaits; the next stop is before the step that resumes it.
    const resumed = await s.nextStop();
    assert.equal(resumed.body.loopscope.where, 'handle');
    const beforeStop = s.timeline.slice(0, s.timeline.lastIndexOf('stopped:function breakpoint'));
    const printed = beforeStop.filter((e) => e.startsWith('output:std')).join('');
    for (const line of ['out 1', 'err 1', 'out 2', 'err 2']) assert.ok(printed.includes(line), `${line} before the stop`);
    assert.equal(s.text('stdout'), 'out 1\nout 2\n');
    assert.equal(s.text('stderr'), 'err 1\nerr 2\n');
    await s.client.setFunctionBreakpointsRequest({ breakpoints: [] });
    await s.client.continueRequest({ threadId: 1 });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.equal(s.text('stdout'), 'out 1\nout 2\nfinished\n');
  }));

  it('runs a program that never uses asyncio as Python would', () => run({ program: fixture('no_asyncio.py'), args: ['x', 'y'] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.equal(s.text('stdout'), "plain program ['x', 'y']\n");
  }));

  it('shows a syntax error in the program and exits 1', () => run({ program: fixture('syntax_error.py') }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 1);
    assert.match(s.text('stderr'), /syntax_error\.py", line 3\n.*\n.*\nSyntaxError/);
    assert.doesNotMatch(s.text('stderr'), /loopscope/);
  }));

  it('runs a module with -m semantics', () => run({ module: 'json.tool', args: ['--sort-keys', fixture('data.json')] }, async (s) => {
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.equal(s.text('stdout'), '{\n    "a": 1,\n    "b": 2\n}\n');
  }));

  it('ends the program and everything it started on disconnect', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('spawner.py') });
      const childPid = Number((await session.outputMatching(/child (\d+)/))[1]);
      assert.ok(processAlive(childPid));
      await session.client.disconnectRequest({ terminateDebuggee: true });
      await eventually(() => !processAlive(childPid), `child ${childPid} is gone`);
    } finally {
      await session.stop();
    }
  });

  it('ends what the program left in its process group when it is killed from outside', () => run({ program: fixture('spawner.py') }, async (s) => {
    const childPid = Number((await s.outputMatching(/child (\d+)/))[1]);
    const programPid = (await s.next('process')).body.systemProcessId as number;
    process.kill(programPid, 'SIGKILL');
    assert.equal((await s.next('exited')).body.exitCode, 137);
    await eventually(() => !processAlive(childPid), `the grandchild ${childPid} is gone`);
  }));

  it('lets a child forked from the Debug Console run free, and ends it with the session', () => run({}, async (s) => {
    await s.launch({ program: fixture('fork_console.py'), stopOnEntry: true });
    const stop = await s.nextStop();
    const forked = await s.client.evaluateRequest({ expression: '__import__("os").fork()', context: 'repl' });
    const childPid = Number(forked.body.result);
    assert.ok(childPid > 0, forked.body.result);
    // The child was held where its parent is: it must not wait for a resume that only the parent gets.
    await s.outputMatching(new RegExp(`child ${childPid} runs free`));
    await s.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0);
    assert.match(s.text('stdout'), /parent done\n/);
    await eventually(() => !processAlive(childPid), `the forked child ${childPid} is gone`);
  }));

  it('ends a held program on disconnect', async () => {
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program: fixture('sleeper.py'), stopOnEntry: true });
      await session.nextStop();
      const pid = Number((await session.client.evaluateRequest({ expression: '__import__("os").getpid()' })).body.result);
      await session.client.disconnectRequest({ terminateDebuggee: true });
      await eventually(() => !processAlive(pid), `the held program ${pid} is gone`);
    } finally {
      await session.stop();
    }
  });
});

describe('bad input', () => {
  const launchFails = async (args: Record<string, unknown>, message: RegExp) => {
    const session = new Session();
    await session.start();
    try {
      await session.client.initializeRequest({ adapterID: 'loopscope', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await assert.rejects(session.client.launchRequest({ python: PYTHON, ...args } as any), message);
    } finally {
      await session.client.stop();
    }
  };

  it('names a program that does not exist', () =>
    launchFails({ program: fixture('missing.py') }, /can't open file '.*missing\.py'.*Check "program" in launch\.json/));

  it('names a module that does not exist', () =>
    launchFails({ module: 'no_such_module_here' }, /No module named no_such_module_here.*Check "module"/));

  it('says what to set when neither program nor module is given', () =>
    launchFails({}, /set "program" .* or "module"/));

  it('refuses both program and module', () =>
    launchFails({ program: fixture('counters.py'), module: 'x' }, /either "program" or "module"/));

  it('refuses args that are not strings', () =>
    launchFails({ program: fixture('counters.py'), args: [1, 2] }, /"args" in launch\.json must be a list of strings/));

  it('says when the interpreter is not found', () =>
    launchFails({ program: fixture('counters.py'), python: '/nonexistent/python9' }, /"\/nonexistent\/python9" was not found\. Set "python"/));

  it('says when the interpreter is not Python', () =>
    launchFails({ program: fixture('counters.py'), python: '/bin/false' }, /"\/bin\/false" exited with code 1 without starting the Loopscope runtime\. Is it a Python 3\.8\+ interpreter\?/));

  const oldPython = ['3.7.16', '3.6.15'].map((v) => path.join(process.env.PYENV_ROOT ?? path.join(process.env.HOME ?? '', '.pyenv'), 'versions', v, 'bin', 'python3')).find(existsSync);
  (oldPython ? it : it.skip)('says when Python is older than 3.8', () =>
    launchFails({ program: fixture('counters.py'), python: oldPython }, /Loopscope needs Python 3\.8 or newer\. Set "python" in launch\.json/));

  it('answers an unknown request with an error', () => run({ program: fixture('sleeper.py'), stopOnEntry: true }, async (s) => {
    await s.nextStop();
    await assert.rejects(s.client.customRequest('loopscope/noSuchThing', {}), /does not know the request "loopscope\/noSuchThing"/);
  }));

  it('answers a malformed request with an error and carries on', () => run({ program: fixture('sleeper.py'), stopOnEntry: true }, async (s) => {
    await s.nextStop();
    await assert.rejects(s.client.stackTraceRequest({} as any), /threadId/);
    await assert.rejects(s.client.variablesRequest({ variablesReference: 999999 }), /gone|no/i);
    const { body } = await s.client.stackTraceRequest({ threadId: 1 });
    assert.ok(body.stackFrames.length > 0);
  }));

  it('answers requests after the program ended with an error', () => run({ program: fixture('no_asyncio.py') }, async (s) => {
    await s.next('terminated');
    await assert.rejects(s.client.stackTraceRequest({ threadId: 1 }), /not running/);
  }));
});

describe('faults', () => {
  const programPid = async (s: Session) => (await s.next('process')).body.systemProcessId as number;

  it('ends the program on disconnect while a step over await is under way', () => run({}, async (s) => {
    const program = fixture('long_sleeps.py');
    await s.launch({ program }, () =>
      s.client.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: markers(program)('sleep') }] }));
    const pid = await programPid(s);
    const stop = await s.nextStop();
    await s.client.nextRequest({ threadId: stop.body.threadId });  // over a 60 s sleep: the program runs on
    await s.next('continued');
    assert.ok(processAlive(pid));
    await s.client.disconnectRequest({ terminateDebuggee: true });
    await eventually(() => !processAlive(pid), `the stepping program ${pid} is gone`);
  }));

  it('ends a program busy in a callback on disconnect', () => run({ program: fixture('busy.py') }, async (s) => {
    const pid = await programPid(s);
    await s.outputMatching(/spinning/);
    await s.client.disconnectRequest({ terminateDebuggee: true });
    await eventually(() => !processAlive(pid), `the busy program ${pid} is gone`);
  }));

  it('announces the program as a local process with its pid', () => run({ program: fixture('no_asyncio.py') }, async (s) => {
    const { body } = await s.next('process');
    assert.equal(body.name, fixture('no_asyncio.py'));
    assert.equal(body.startMethod, 'launch');
    assert.ok(Number.isInteger(body.systemProcessId) && body.systemProcessId > 0);
  }));

  it('ends the program when the adapter process dies', async () => {
    const session = new Session();
    await session.start();
    let pid = 0;
    try {
      await session.launch({ program: fixture('sleeper.py'), stopOnEntry: true });
      await session.nextStop();
      pid = Number((await session.client.evaluateRequest({ expression: '__import__("os").getpid()' })).body.result);
      const adapterPid = (session.client as unknown as { _adapterProcess: { pid: number } })._adapterProcess.pid;
      process.kill(adapterPid, 'SIGKILL');
      await eventually(() => !processAlive(pid), `the held program ${pid} is gone after its adapter died`);
    } finally {
      if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
      // The adapter is dead: a disconnect request would never be answered.
      (session.client as unknown as { stopAdapter(): void }).stopAdapter();
    }
  });
});
