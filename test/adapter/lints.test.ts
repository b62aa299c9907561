// Lints (issue #17): each asyncio mistake is reported at its line as a loopscope/lint event (VS Code
// shows them in the Problems panel), once; the same program done right reports none; and the
// program prints exactly what it prints without Loopscope.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { spawnSync } from 'node:child_process';
import type { Lint, LintKind } from '../../extension/adapter/protocol';
import { fixture, markers, PYTHON, Session } from './harness';

const MISTAKES = fixture('health/mistakes.py');
const CAREFUL = fixture('health/careful.py');
const line = markers(MISTAKES);

/** Runs a program to its end under the adapter; the lints it reported, and what it wrote to stderr. */
async function lintsOf(program: string, launch: Record<string, unknown> = {}): Promise<{ lints: Lint[]; stderr: string; stdout: string }> {
  const session = new Session();
  const lints: Lint[] = [];
  session.client.on('loopscope/lint', (event: DebugProtocol.Event) => lints.push(event.body));
  await session.start();
  try {
    await session.launch({ program, ...launch });
    await session.next('terminated');
    return { lints, stderr: session.text('stderr'), stdout: session.text('stdout') };
  } finally {
    await session.stop();
  }
}

describe('lints', function () {
  this.timeout(60_000);
  let found: { lints: Lint[]; stderr: string; stdout: string };
  before(async () => { found = await lintsOf(MISTAKES); });

  const expected: [LintKind, string, RegExp][] = [
    ['neverAwaited', 'never-awaited', /^Coroutine work\(\) was never awaited/],
    ['exceptionNeverRetrieved', 'raised', /^Task Task-\d+ \(fail\) failed with ValueError: nobody asks, and nothing retrieved the exception/],
    // Collected in a cycle, its coroutine was closed first: the lint is at the coroutine's definition, as asyncio's own message says.
    ['destroyedPending', 'orphan', /^Task Task-\d+ \(orphan\) was destroyed while still pending: nothing kept a reference/],
    ['neverYields', 'busy', /^Task Task-1 ran code here for over \d+ ms without yielding to event loop 1 \(MainThread\)/],
    ['blockingCall', 'sleepy', /^`time\.sleep\(0\.3\)  # @sleepy` blocked event loop 1 \(MainThread\) for over \d+ ms in task Task-1/],
    ['taskNotKept', 'not-kept', /^The task made here \(work\) is not kept/],
    ['selfWakes', 'poll', /^Task Task-\d+ \(poller\) keeps waking itself/],
  ];
  for (const [kind, marker, message] of expected) {
    it(`reports ${kind} at its line, once`, () => {
      const ofKind = found.lints.filter((l) => l.kind === kind);
      assert.equal(ofKind.length, 1, JSON.stringify(found.lints, null, 1));
      assert.deepEqual(ofKind[0].location, { path: MISTAKES, line: line(marker) });
      assert.match(ofKind[0].message, message);
    });
  }

  it('says where the failed and the lost task were created', () => {
    const retrieved = found.lints.find((l) => l.kind === 'exceptionNeverRetrieved')!;
    assert.match(retrieved.related?.[0].message ?? '', /was created here/);
    assert.equal(retrieved.related?.[0].location.path, MISTAKES);
  });

  it('changes nothing the program prints', () => {
    const plain = spawnSync(PYTHON, [MISTAKES], { encoding: 'utf8' });
    assert.equal(found.stdout, plain.stdout);
    const addresses = (text: string) => text.replace(/0x[0-9a-f]+/g, '0x…'); // 3.8 prints a wrapper's address
    assert.equal(addresses(found.stderr), addresses(plain.stderr));
  });

  it('reports nothing for the same program done right', async () => {
    const careful = await lintsOf(CAREFUL);
    assert.deepEqual(careful.lints, []);
    assert.equal(careful.stdout, 'no mistakes\n');
  });

  it('finds a task waking itself from exact counts with stepStatistics "tasks"', async () => {
    const { lints } = await lintsOf(MISTAKES, { stepStatistics: 'tasks' });
    const selfWakes = lints.filter((l) => l.kind === 'selfWakes');
    assert.equal(selfWakes.length, 1);
    assert.deepEqual(selfWakes[0].location, { path: MISTAKES, line: line('poll') });
    assert.match(selfWakes[0].message, /keeps waking itself: \d+ of its \d+ steps were scheduled by itself/);
  });
});
