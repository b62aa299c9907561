// Programs that lean on asyncio's corners (subprocesses, signals, readers, policies, task
// factories, eager tasks, loops in threads, fork, asyncio's own warnings) print, exit and fail
// exactly as they do without Loopscope, under the adapter and with the per-handle hooks on.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fixture, FIXTURES, PYTHON, Session, supportedPythons } from './harness';

const DIR = path.join(FIXTURES, 'fidelity');
const programs = readdirSync(DIR).filter((name) => name.endsWith('.py')).sort();

/** NAME=VALUE pairs a fixture asks for in '# fidelity-env:' lines, for the plain run and the debugged one. */
function fixtureEnv(program: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of readFileSync(program, 'utf8').matchAll(/^# fidelity-env: (\w+)=(.*)$/gm)) env[match[1]] = match[2];
  return env;
}

async function underLoopscope(program: string, python: string, cwd = DIR) {
  const session = new Session();
  await session.start();
  try {
    // A task breakpoint that never matches keeps the per-handle hooks on the whole time.
    await session.launch({ program, python, cwd, env: fixtureEnv(program) }, () =>
      session.client.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'no task is called this' }] }));
    const exitCode = (await session.next('exited', 30_000)).body.exitCode as number;
    await session.next('terminated');
    return { exitCode, stdout: session.text('stdout'), stderr: session.text('stderr'), console: session.text('console') };
  } finally {
    await session.stop();
  }
}

describe('fidelity: the program behaves as without Loopscope', () => {
  const pythons = supportedPythons().filter((p) => /^3\.(8|12|13|14|15)\./.test(p.version));
  for (const python of pythons.length ? pythons : [{ version: 'default', path: PYTHON }]) {
    for (const name of programs) {
      it(`${name} (Python ${python.version})`, async () => {
        const program = path.join(DIR, name);
        const plain = spawnSync(python.path, [program], { cwd: DIR, timeout: 30_000, env: { ...process.env, ...fixtureEnv(program) } });
        const debugged = await underLoopscope(program, python.path);
        // Addresses (0x7f...) differ from run to run.
        const tidy = (text: string) => text.replace(/0x[0-9a-f]+/g, '0x…');
        assert.equal(tidy(debugged.stdout), tidy(plain.stdout.toString()), 'stdout');
        // From 3.12 os.fork() warns in a process with a second thread: Loopscope's step aside (forking.py).
        // CPython 3.13 counts the threads its fork hooks start again in the parent (python/cpython#137109,
        // fixed in 3.14): there the warning stays, as documented.
        const forkWarning = /^.*DeprecationWarning: This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks in the child\.\n.*\n/m;
        const debuggedStderr = python.version.startsWith('3.13.') ? debugged.stderr.replace(forkWarning, '') : debugged.stderr;
        const stderr = [tidy(debuggedStderr), tidy(plain.stderr.toString())];
        // A fixture may ask for its stderr lines to be compared in any order (see pending_at_exit.py).
        if (/^# fidelity-unordered: stderr$/m.test(readFileSync(program, 'utf8'))) {
          assert.deepEqual(stderr[0].split('\n').sort(), stderr[1].split('\n').sort(), 'stderr, in any order');
        } else {
          assert.equal(stderr[0], stderr[1], 'stderr');
        }
        assert.equal(debugged.exitCode, plain.status, 'exit code');
      });
    }
  }

  // uvloop's loop is not a BaseEventLoop: it cannot be held, but the program must run as without
  // Loopscope, and the user must be told. Debian's python3-uvloop serves Debian's python3 (.ci/run installs it).
  it('uvloop: the program runs as without Loopscope, and the session says its loop cannot be held', async function () {
    const python = '/usr/bin/python3';
    if (spawnSync(python, ['-c', 'import uvloop']).status !== 0) {
      console.log(`      (skipped: ${python} cannot import uvloop; apt-get install python3-uvloop)`);
      this.skip();
    }
    const program = fixture('uses_uvloop.py');
    const plain = spawnSync(python, [program], { cwd: FIXTURES, timeout: 30_000 });
    const debugged = await underLoopscope(program, python, FIXTURES);
    assert.equal(debugged.stdout, plain.stdout.toString(), 'stdout');
    assert.equal(debugged.stderr, plain.stderr.toString(), 'stderr');
    assert.equal(debugged.exitCode, plain.status, 'exit code');
    assert.equal(debugged.exitCode, 4);
    assert.match(debugged.console, /event loop of type uvloop\.Loop, which is not built on asyncio's BaseEventLoop: Loopscope cannot hold, step or show it/);
  });
});
