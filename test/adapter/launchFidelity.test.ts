// Launching is as faithful as running: "module" behaves exactly like `python -m`, no program code runs
// before the runtime has connected or can see its token, and the program imports its own modules.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURES, markers, PYTHON, ROOT, Session, supportedPythons, within } from './harness';

const LAUNCH = path.join(FIXTURES, 'launch');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Launch, run to the end, and return what the program printed and its exit code. */
async function runToEnd(args: Record<string, unknown>) {
  const session = new Session();
  await session.start();
  try {
    await within(session.launch({ cwd: LAUNCH, ...args }), 20_000, 'no launch response');
    const exitCode = (await session.next('exited', 30_000)).body.exitCode as number;
    await session.next('terminated');
    return { exitCode, stdout: session.text('stdout'), stderr: session.text('stderr'), console: session.text('console') };
  } finally {
    await session.stop();
  }
}

function plainModule(module: string, env: Record<string, string> = {}) {
  return spawnSync(PYTHON, ['-m', module], { cwd: LAUNCH, timeout: 30_000, env: { ...process.env, ...env } });
}

describe('launch fidelity: "module" is python -m', () => {
  for (const module of ['topmod', 'pkg.main']) {
    it(`runs ${module} from the working directory as python -m does`, async () => {
      const plain = plainModule(module);
      assert.equal(plain.status, 0, plain.stderr.toString());
      const debugged = await runToEnd({ module });
      assert.equal(debugged.stdout, plain.stdout.toString());
      assert.equal(debugged.stderr, plain.stderr.toString());
      assert.equal(debugged.exitCode, 0);
    });
  }

  it('loopscope trace -m runs a module of the working directory', () => {
    const run = spawnSync(process.execPath, [CLI, 'trace', '--python', PYTHON, '-m', 'topmod'], { cwd: LAUNCH, timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr.toString());
    assert.match(run.stdout.toString(), /^topmod __main__ \['.*topmod\.py'\] /m);
  });
});

describe('launch fidelity: no program code before the runtime is connected', () => {
  // PYTHONPATH lets any lookup find the package, even one made before sys.path[0] is the working directory.
  const env = { PYTHONPATH: LAUNCH };

  it("a package's __init__ finds no token and cannot pass for the runtime", async () => {
    const debugged = await runToEnd({ module: 'spy.main', env });
    assert.match(debugged.stdout, /^spy: token not found$/m, debugged.stdout);
    assert.match(debugged.stdout, /^spy\.main ran$/m, `the real program ran to its end\n${debugged.stdout}${debugged.console}`);
    assert.equal(debugged.exitCode, 0);
  });

  it('a slow package import is part of the program, not of the launch', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'loopscope-gate-'));
    const gate = path.join(scratch, 'open');
    const session = new Session();
    await session.start();
    try {
      // The import waits for the gate; the launch must complete without it.
      const launched = session.launch({ cwd: LAUNCH, module: 'slow.main', env: { ...env, SLOW_IMPORT_GATE: gate } });
      await within(launched, 15_000, 'the launch waited for the import: no launch response');
      assert.doesNotMatch(session.text('stdout'), /slow imported/);
      writeFileSync(gate, '');
      assert.equal((await session.next('exited', 30_000)).body.exitCode, 0);
      assert.equal(session.text('stdout'), 'slow imported\nslow.main ran\n');
    } finally {
      await session.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('launch fidelity: the program imports its own modules', () => {
  const program = path.join(FIXTURES, 'shadowing', 'main.py');
  const pythons = supportedPythons().filter((p) => /^3\.(8|11|12|14)\./.test(p.version));
  for (const python of pythons.length ? pythons : [{ version: 'default', path: PYTHON }]) {
    it(`queue.py, json.py, loopscope.py, ctypes.py… next to the program win, as in plain Python (${python.version})`, async () => {
      const plain = spawnSync(python.path, [program], { cwd: path.dirname(program), timeout: 30_000 });
      assert.match(plain.stdout.toString(), /^queue the program's$/m);
      const debugged = await runToEnd({ program, python: python.path, cwd: path.dirname(program) });
      assert.equal(debugged.stdout, plain.stdout.toString());
      assert.equal(debugged.stderr, plain.stderr.toString());
      assert.equal(debugged.exitCode, plain.status);
    });
  }
});

describe('fidelity: what the program patches itself stays patched', () => {
  it("keeps a slow-callback monitor's Handle._run wrapper through stops and steps", async () => {
    const program = path.join(FIXTURES, 'fidelity', 'handle_monitor.py');
    const plain = spawnSync(PYTHON, [program], { timeout: 30_000 });
    assert.equal(plain.stdout.toString(), 'monitor still installed: True\nmonitor saw handles: True\n');
    const session = new Session();
    await session.start();
    try {
      await session.launch({ program, stopOnEntry: true });
      let stop = await session.nextStop();
      for (const step of ['next', 'stepIn', 'next'] as const) {
        await session.client[`${step}Request`]({ threadId: stop.body.threadId });
        stop = await session.nextStop();
      }
      await session.client.continueRequest({ threadId: stop.body.threadId });
      assert.equal((await session.next('exited')).body.exitCode, 0);
      assert.equal(session.text('stdout'), plain.stdout.toString());
    } finally {
      await session.stop();
    }
  });
});

describe("fidelity: the program's own tracing", () => {
  const program = path.join(FIXTURES, 'own_tracing.py');
  const report = markers(program)('own-tracing-report');
  const pythons = supportedPythons().filter((p) => /^3\.(8|11|12|14)\./.test(p.version));
  for (const python of pythons.length ? pythons : [{ version: 'default', path: PYTHON }]) {
    const monitoring = !/^3\.(8|9|10|11)\./.test(python.version);
    const what = monitoring ? 'leaves sys.monitoring.DEBUGGER_ID to the program' : "leaves the program's sys.settrace and says why breakpoints cannot stop";
    it(`${what} (${python.version})`, async () => {
      const session = new Session();
      await session.start();
      try {
        await session.launch({ program, python: python.path }, () => session.client.setBreakpointsRequest({
          source: { path: program }, breakpoints: [{ line: report }],
        }));
        if (monitoring) {
          const stop = await session.nextStop();
          assert.equal(stop.body.reason, 'breakpoint');
          assert.match(session.text('stdout'), /^DEBUGGER_ID is the program's$/m);
          await session.client.continueRequest({ threadId: stop.body.threadId });
        } else {
          assert.match(await session.outputMatching(/The program set its own trace function.*\n/).then((m) => m[0]),
            /trace_nothing, with sys\.settrace\) on thread MainThread: before Python 3\.12/);
        }
        assert.equal((await session.next('exited')).body.exitCode, 0);
        assert.match(session.text('stdout'), /done\n$/);
      } finally {
        await session.stop();
      }
    });
  }
});
