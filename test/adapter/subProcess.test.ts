// subProcess: a child Python process the program starts with sys.executable is debugged in a child
// session. The test client answers startDebugging as VS Code does: it starts a second adapter and
// attaches it with the configuration the parent session gave.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as net from 'node:net';
import { encodeFrame } from '../../extension/adapter/framing';
import { eventually, fixture, markers, Session, supportedPythons } from './harness';

const child = fixture('process/child.py');

/** A parent session that starts a child session for every child process its program starts. */
async function withChildSessions(body: (parent: Session, children: Promise<Session>[], configurations: Record<string, any>[]) => Promise<void>,
  configureChild: (child: Session) => Promise<unknown> = async () => undefined): Promise<void> {
  const parent = new Session();
  const children: Promise<Session>[] = [];
  const configurations: Record<string, any>[] = [];
  parent.capabilities = { supportsStartDebuggingRequest: true };
  parent.onReverseRequest('startDebugging', (request: DebugProtocol.StartDebuggingRequestArguments) => {
    assert.equal(request.request, 'attach');
    configurations.push(request.configuration);
    const session = new Session();
    children.push(session.start().then(async () => {
      void session.launch(request.configuration, () => configureChild(session)).catch(() => undefined);
      return session;
    }));
    return {};
  });
  await parent.start();
  try {
    await body(parent, children, configurations);
  } finally {
    for (const session of children) await (await session).stop();
    await parent.stop();
  }
}

/** Wait until the parent has asked for `count` child sessions. */
async function childSessionsAskedFor(_parent: Session, children: unknown[], count: number): Promise<void> {
  await eventually(() => children.length >= count, `the parent asked for ${count} child sessions`, 30_000);
}

/** Connect to port, send one frame, and resolve when the other side closes the connection. */
function refusedOn(port: number, frame: object): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('data', () => undefined);
    socket.write(encodeFrame(frame));
  });
}

describe('subProcess', () => {
  for (const python of supportedPythons()) {
    it(`debugs a child process in a child session: breakpoints, its loop, its exit code (Python ${python.version})`, () => withChildSessions(async (parent, children) => {
      await parent.launch({ program: fixture('process/spawns_child.py'), python: python.path, subProcess: true });
      for (const which of ['from-asyncio', 'from-subprocess']) {
        await childSessionsAskedFor(parent, children, which === 'from-asyncio' ? 1 : 2);
        const session = await children[children.length - 1];
        const process = await session.next('process');
        assert.equal(process.body.startMethod, 'attachForSuspendedLaunch');
        assert.match(process.body.name, /child\.py$/);
        const stop = await session.nextStop();
        assert.equal(stop.body.reason, 'breakpoint');
        assert.equal((await session.topFrame(stop.body.threadId)).line, markers(child)('child'));
        const { body } = await session.client.threadsRequest();
        assert.ok(body.threads.some((t) => /loop/i.test(t.name)), `the child's loop is a thread: ${JSON.stringify(body.threads)}`);
        const snapshot = await session.client.customRequest('loopscope/snapshot', { maxTasks: 10 });
        assert.equal(snapshot.body.loops.length, 1);
        await session.client.continueRequest({ threadId: stop.body.threadId });
        assert.equal((await session.next('exited')).body.exitCode, 4);
        await session.next('terminated');
      }
      assert.equal((await parent.next('exited')).body.exitCode, 0);
      assert.match(parent.text('stdout'), /asyncio child said 'child from-asyncio running', exit 4\n/);
      assert.match(parent.text('stdout'), /subprocess child said 'child from-subprocess running', exit 4\n/);
    }, (session) => session.client.setBreakpointsRequest({ source: { path: child }, breakpoints: [{ line: markers(child)('child') }] })));
  }

  it('debugs a multiprocessing child started with spawn', () => withChildSessions(async (parent, children) => {
    const program = fixture('process/multiprocessing_spawn.py');
    await parent.launch({ program, subProcess: true });
    await childSessionsAskedFor(parent, children, 1);
    const session = await children[0];
    const stop = await session.nextStop();
    assert.equal((await session.topFrame(stop.body.threadId)).line, markers(program)('double'));
    await session.client.continueRequest({ threadId: stop.body.threadId });
    assert.equal((await parent.next('exited')).body.exitCode, 0);
    assert.match(parent.text('stdout'), /result 42\nexit 0\n/);
  }, (session) => session.client.setBreakpointsRequest({ source: { path: fixture('process/multiprocessing_spawn.py') },
    breakpoints: [{ line: markers(fixture('process/multiprocessing_spawn.py'))('double') }] })));

  it('lets a child run without Loopscope, and says so, when the client cannot start child sessions', async () => {
    const parent = new Session();
    await parent.start();
    try {
      await parent.launch({ program: fixture('process/spawns_child.py'), subProcess: true });
      assert.equal((await parent.next('exited')).body.exitCode, 0);
      assert.match(parent.text('stdout'), /asyncio child said 'child from-asyncio running', exit 4\n/);
      assert.match(parent.text('console'), /Child process \d+ \(.*child\.py\) runs without Loopscope: the debugger client cannot start child sessions/);
    } finally {
      await parent.stop();
    }
  });

  it('refuses a stranger on the port for children, a forged child, and an adoption token used twice', () => withChildSessions(async (parent, children, configurations) => {
    await parent.launch({ program: fixture('process/spawns_child.py'), subProcess: true });
    await childSessionsAskedFor(parent, children, 1);
    const session = await children[0];
    await session.nextStop();
    const { port, token } = configurations[0].childProcess;
    await refusedOn(port, { type: 'adopt', token }); // taken by the child session already
    await refusedOn(port, { type: 'hello', token: 'f'.repeat(64), nonce: '0'.repeat(32), protocolVersion: 1, pid: 1, python: '3', executable: 'x' });
    await refusedOn(port, { type: 'request', command: 'evaluate' });
    const refusals = parent.text('console').match(/Refused a connection to the port for child processes from 127\.0\.0\.1:\d+: [^\n]*/g) ?? [];
    assert.deepEqual(refusals.map((r) => r.replace(/.*\d+: /, '')), ['an unknown or used adoption token', 'wrong token', 'not a hello']);
    await session.client.continueRequest({ threadId: 0 });
  }, (session) => session.client.setBreakpointsRequest({ source: { path: child }, breakpoints: [{ line: markers(child)('child') }] })));
});
