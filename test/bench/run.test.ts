// `npm run bench` kept working: a quick start-up pass on a real Python through the bundled
// adapter, and docs/benchmarks.md's shape rebuilt from the saved full run. Nothing here judges a
// time; the numbers are only required to be there (docs/benchmarks.md is where they are read).
import * as assert from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RUN = path.join(ROOT, 'bench', 'run.mjs');
// Issue #6's targets, with those on 3.12+ raised by issue #12 and its comparison with debugpy.
const TARGETS = [
  'Free-running, no breakpoints ≤ 1.05× on 3.12+, ≤ 1.10× before',
  'Never-matching task breakpoint ≤ 1.10× on 3.12+, ≤ 1.25× before',
  'Line breakpoint in a file that never runs ≤ 1.05× on 3.12+, ≤ 2× before',
  'Line breakpoint in a file that never runs below debugpy\'s ratio on 3.12+ (same interpreter, same run)',
  'Step latency median ≤ 5 ms at 1,000 tasks',
  'Snapshot ≤ 100 ms for the first 1,000 of 10,000 tasks',
  'Memory ≤ 1.3× with 100,000 tasks',
  'Start-up ≤ 300 ms over plain',
];

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('npm run bench', function () {
  this.timeout(180_000);

  it('rebuilds the report from saved results, with every target and the analysis, naming no interpreter by its path', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loopscope-bench-'));
    try {
      const out = path.join(dir, 'benchmarks.md');
      const saved = path.join(ROOT, 'bench', 'results', 'full.json');
      const { code, stderr } = await runBench(['--from-json', saved, '--out', out], 60_000);
      assert.strictEqual(code, 0, stderr);
      const report = readFileSync(out, 'utf8');
      for (const heading of ['## Machine', '## Targets', '## Results', '## Analysis']) assert.ok(report.includes(heading), heading);
      for (const target of TARGETS) {
        const row = report.split('\n').find((line) => line.startsWith(`| ${target} |`));
        assert.ok(row, `no row for "${target}"`);
        assert.match(row, /\| (met|\*\*missed\*\*) \|/, `"${target}" says neither met nor missed`);
      }
      // Interpreters go by origin and version ("Debian 3.14.10"): a path on the benchmark machine means nothing to a reader.
      const { context } = JSON.parse(readFileSync(saved, 'utf8'));
      for (const python of context.pythons) {
        assert.ok(!report.includes(python.path), `the report names ${python.label} by its path ${python.path}`);
        assert.ok(report.includes(python.label), `the report does not name ${python.label}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('measures start-up on a real Python through the bundled adapter (quick pass, nothing written)', async function () {
    const { code, stdout, stderr } = await runBench(['--quick', '--only', 'startup', '--no-write'], 150_000);
    if (code !== 0 && /no CPython [\d./]+ found under pyenv/.test(stderr)) {  // the bench's own search
      console.log('    note: no CPython the benchmarks measure is in pyenv here; the quick start-up pass was skipped');
      this.skip();
    }
    assert.strictEqual(code, 0, stderr);
    const row = stdout.split('\n').find((line) => line.startsWith('Start-up ≤ 300 ms over plain'));
    assert.ok(row, `no start-up target in:\n${stdout}`);
    assert.match(row, /worst [\d.]+ ms over `python -c pass`/);
  });
});
