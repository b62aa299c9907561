// Where the program's input and output go (console, redirectOutput), its environment (envFile), and
// launch options Loopscope refuses (sudo), through the bundled adapter. The test client answers
// runInTerminal by starting the command itself with pipes for a terminal, as VS Code would in one.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { fixture, FIXTURES, markers, PYTHON, Session } from './harness';

const terminalIo = fixture('process/terminal_io.py');

/** A stand-in for a terminal: the command the adapter asked for, with its text collected. */
class FakeTerminal {
  process: ChildProcess | undefined;
  text = '';
  request: any;

  start(request: any): { processId: number } {
    this.request = request;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(request.env ?? {})) {
      if (value === null) delete env[name];
      else env[name] = value as string;
    }
    this.process = spawn(request.args[0], request.args.slice(1), { cwd: request.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    for (const stream of [this.process.stdout!, this.process.stderr!]) stream.on('data', (chunk) => { this.text += chunk.toString(); });
    return { processId: this.process.pid! };
  }

  /** Wait until the terminal shows pattern (or fail at the deadline with what it shows). */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the terminal never showed ${pattern}; it shows:\n${this.text}`);
      const streams = [this.process!.stdout!, this.process!.stderr!];
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          for (const stream of streams) stream.off('data', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 200)); // and look again, in case it has closed
        for (const stream of streams) stream.on('data', done);
      });
    }
  }

  close(): void {
    if (this.process && this.process.exitCode === null) this.process.kill('SIGKILL');
  }
}

async function inTerminal(args: Record<string, unknown>, body: (s: Session, terminal: FakeTerminal) => Promise<void>): Promise<void> {
  const session = new Session();
  const terminal = new FakeTerminal();
  session.capabilities = { supportsRunInTerminalRequest: true };
  session.onReverseRequest('runInTerminal', (request) => terminal.start(request));
  await session.start();
  try {
    await body(session, terminal);
  } finally {
    await session.stop();
    terminal.close();
  }
}

describe('console', () => {
  for (const console of ['integratedTerminal', 'externalTerminal']) {
    it(`${console}: the program's stdin and stdout are the terminal's, and it is debugged as usual`, () => inTerminal({}, async (s, terminal) => {
      await s.launch({ program: terminalIo, console }, () =>
        s.client.setBreakpointsRequest({ source: { path: terminalIo }, breakpoints: [{ line: markers(terminalIo)('answer') }] }));
      assert.equal(terminal.request.kind, console === 'integratedTerminal' ? 'integrated' : 'external');
      assert.ok(!JSON.stringify(terminal.request).includes('LOOPSCOPE_TOKEN'), 'the token is not on the command line or in the environment shown');
      await terminal.waitFor(/ask\n/);
      terminal.process!.stdin!.write('hello\n');
      const stop = await s.nextStop();
      assert.equal(stop.body.reason, 'breakpoint');
      await s.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await s.next('exited')).body.exitCode, 3, 'the exit code, told by the runtime');
      await terminal.waitFor(/got hello\n/);
      await terminal.waitFor(/done on stderr\n/);
      assert.equal(s.text('stdout') + s.text('stderr'), '', 'nothing of the program\'s output in the Debug Console');
    }));
  }

  it('redirectOutput with a terminal: the output is shown in the terminal and in the Debug Console', () => inTerminal({}, async (s, terminal) => {
    await s.launch({ program: terminalIo, console: 'integratedTerminal', redirectOutput: true });
    await terminal.waitFor(/ask\n/);
    terminal.process!.stdin!.write('hello\n');
    assert.equal((await s.next('exited')).body.exitCode, 3);
    await terminal.waitFor(/got hello\n/);
    assert.equal(s.text('stdout'), 'ask\ngot hello\n');
    assert.equal(s.text('stderr'), 'done on stderr\n');
  }));

  it('terminate ends a program in a terminal after its cleanup', () => inTerminal({}, async (s, terminal) => {
    const cleanup = fixture('process/cleanup.py');
    await s.launch({ program: cleanup, console: 'integratedTerminal' });
    await terminal.waitFor(/worker running/);
    await s.client.terminateRequest({});
    assert.equal((await s.next('exited')).body.exitCode, 130);
    await terminal.waitFor(/program cleanup\n/);
  }));

  it('falls back to the Debug Console, and says so, when the client cannot start a terminal', async () => {
    const s = new Session();
    await s.start();
    try {
      await s.launch({ program: terminalIo, console: 'integratedTerminal' });
      assert.equal((await s.next('exited')).body.exitCode, 3);
      assert.match(s.text('console'), /cannot start a terminal.*"console": "internalConsole"/);
      assert.equal(s.text('stdout'), 'ask\ngot \n', 'its output here, its input empty');
    } finally {
      await s.stop();
    }
  });
});

describe('launch environment', () => {
  it('envFile: variables read as the Python extension reads .env files, env winning over them', async () => {
    const s = new Session({ LOOPSCOPE_TEST_FROM_ENV: 'from-the-environment' });
    await s.start();
    try {
      await s.launch({ program: fixture('process/prints_env.py'), envFile: 'vars.env', cwd: path.join(FIXTURES, 'process'), env: { OVERRIDDEN: 'from-env' } });
      assert.equal((await s.next('exited')).body.exitCode, 0);
      assert.deepEqual(JSON.parse(s.text('stdout')), {
        PLAIN: 'one', SPACED: 'two words', DOUBLE: 'line1\nline2', SINGLE: 'single', FROM_EARLIER: 'one-and-more',
        FROM_ENV: 'from-the-environment', KEPT: '${PLAIN}', OVERRIDDEN: 'from-env',
      });
    } finally {
      await s.stop();
    }
  });

  const launchFails = async (args: Record<string, unknown>, message: RegExp) => {
    const s = new Session();
    await s.start();
    try {
      await s.client.initializeRequest({ adapterID: 'loopscope', pathFormat: 'path' });
      await assert.rejects(s.client.launchRequest({ python: PYTHON, ...args } as never), message);
    } finally {
      await s.client.stop();
    }
  };

  it('says which envFile is missing', () =>
    launchFails({ program: fixture('process/prints_env.py'), envFile: fixture('process/missing.env') }, /envFile ".*missing\.env" does not exist\. Check "envFile"/));

  it('refuses sudo clearly', () =>
    launchFails({ program: fixture('process/prints_env.py'), sudo: true }, /does not run programs with sudo.*Remove "sudo"/));

  it('refuses a console it does not know', () =>
    launchFails({ program: fixture('process/prints_env.py'), console: 'newWindow' }, /"console" in launch\.json must be "internalConsole", "integratedTerminal" or "externalTerminal"/));
});
