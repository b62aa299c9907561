// `loopscope trace`: the real CLI on a real program, one block per loop iteration with the
// program's output in place between the steps that printed it.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { traceFormatProblems } from '../views/traceEventFormat';
import { fixture, markers, PYTHON, ROOT } from './harness';

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

  it('--lint runs the program freely and lists each mistake at its line', () => {
    const mistakes = fixture('health/mistakes.py');
    const line = markers(mistakes);
    const run = spawnSync(process.execPath, [CLI, 'trace', '--lint', '--python', PYTHON, mistakes], { cwd: path.dirname(mistakes), timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr.toString());
    const out = run.stdout.toString();
    assert.match(out, /^Loopscope lints of .*mistakes\.py \(Python [\d.]+\); the program runs freely\nmistakes made\n── 7 lints ──\n/);
    for (const [marker, severity, kind] of [['never-awaited', 'error', 'coroutine never awaited'], ['raised', 'error', 'exception never retrieved'],
      ['orphan', 'error', 'task destroyed while pending'], ['busy', 'warning', 'task never yields'], ['sleepy', 'warning', 'blocking call'],
      ['not-kept', 'warning', 'task not kept'], ['poll', 'warning', 'task keeps waking itself']]) {
      assert.match(out, new RegExp(`^mistakes\\.py:${line(marker)}: ${severity}: .* \\[${kind}\\]$`, 'm'), marker);
    }
    assert.match(out, /── program exited with code 0 ──\n$/);
  });

  it('--timeline writes Chrome Trace Event JSON with task tracks and who woke whom', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-timeline-'));
    try {
      const file = path.join(dir, 'out.json');
      const program = path.join(ROOT, 'examples', 'producer_consumer.py');
      const run = spawnSync(process.execPath, [CLI, 'trace', '--timeline', file, '--python', PYTHON, program], { cwd: ROOT, timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr.toString());
      assert.match(run.stdout.toString(), /── timeline written to .*out\.json \(open it in https:\/\/ui\.perfetto\.dev or chrome:\/\/tracing\) ──/);
      const trace = JSON.parse(readFileSync(file, 'utf8'));
      assert.deepEqual(traceFormatProblems(trace), []);
      const events: { ph: string; name: string; args?: Record<string, unknown> }[] = trace.traceEvents;
      const tracks = events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => String(e.args?.name));
      assert.ok(tracks.some((t) => /producer/.test(t)) && tracks.some((t) => /consumer/.test(t)), tracks.join(', '));
      assert.ok(events.some((e) => e.ph === 'X' && /^iteration \d+$/.test(e.name)), 'iterations');
      assert.ok(events.some((e) => e.ph === 's') && events.some((e) => e.ph === 'f'), 'flow arrows');
      assert.equal(trace.otherData.taskStepsRecorded, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
