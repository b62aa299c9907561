// `loopscope trace`: the real CLI on a real program, one block per loop iteration with the
// program's output in place between the steps that printed it.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fixture, PYTHON, ROOT } from './harness';

const CLI = path.join(ROOT, 'dist', 'cli.js');

describe('loopscope trace', () => {
  it('prints each iteration, each task step with where it resumed and suspended, and the output in place', () => {
    const run = spawnSync(process.execPath, [CLI, 'trace', '--python', PYTHON, fixture('counters.py')], { cwd: ROOT, timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr.toString());
    const lines = run.stdout.toString().split('\n');
    const text = lines.map((l) => l.replace(/loop time \d+\.\d+/, 'loop time T').replace(/Task-\d+/g, 'Task-N')).join('\n');
    assert.match(text, /^Loopscope trace of .*counters\.py \(Python 3\.\d+\.\d+\)$/m);
    // Iteration 1: both counters start, print, and suspend at their await.
    assert.ok(text.includes([
      '── loop 1 · iteration 1 · loop time T ──',
      '  ▶ Task-N (count) starts at test/fixtures/counters.py:8',
      'a 1',
      '  ⏸ Task-N suspended at test/fixtures/counters.py:11',
      '  ▶ Task-N (count) starts at test/fixtures/counters.py:8',
      'b 1',
      '  ⏸ Task-N suspended at test/fixtures/counters.py:11',
      '── loop 1 · iteration 2 · loop time T ──',
      '  ▶ Task-N (count) resumes at test/fixtures/counters.py:11',
      'a 2',
    ].join('\n')), text);
    assert.match(text, /  ✔ Task-N finished\n/);
    assert.match(text, /done\n── program exited with code 0 ──\n$/);
    const iterations = lines.filter((l) => l.startsWith('── loop 1 · iteration')).length;
    assert.ok(iterations >= 6, `${iterations} iteration blocks`);
  });

  it('says when the program deadlocks, naming the stuck tasks, as the loop starts to wait for ever', async () => {
    const child = spawn(process.execPath, [CLI, 'trace', '--python', PYTHON, fixture('deadlocks.py'), 'futures'], { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no deadlock line within 30 s; output:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          if (/\n {2}⚠ .*would wait for ever.*Stuck: Task-\d+, first, second\.\n/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before reporting the deadlock:\n${out}`)));
      });
    } finally {
      child.kill('SIGINT');
    }
  });

  it('says clearly when the program is missing, and exits 2', () => {
    const run = spawnSync(process.execPath, [CLI, 'trace', '--python', PYTHON, 'no_such_program.py'], { cwd: ROOT, timeout: 60_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr.toString(), /^loopscope: can't open file '.*no_such_program\.py'/);
  });

  it('explains its usage when the command is unknown', () => {
    const run = spawnSync(process.execPath, [CLI, 'trcae'], { timeout: 10_000 });
    assert.equal(run.status, 2);
    assert.match(run.stderr.toString(), /unknown command "trcae"\nusage: loopscope trace/);
  });
});
