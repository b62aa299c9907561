// The control channel: strangers on loopback are refused and logged, the program runs on; the
// TypeScript frame decoder survives random and mutated input (the Python one is fuzzed in
// test/runtime/test_channel.py).
import * as assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, FrameError } from '../../extension/adapter/framing';
import { fixture, PYTHON, Session } from './harness';

describe('control channel', () => {
  it('refuses wrong tokens, oversized and malformed frames, and random bytes, and the program still runs', async () => {
    const session = new Session();
    await session.start();
    try {
      // The "interpreter" is a script that attacks the listener before starting the real runtime.
      await session.launch({ program: fixture('counters.py'), python: fixture('hostile_python.py'), env: { LOOPSCOPE_REAL_PYTHON: PYTHON } });
      assert.equal((await session.next('exited')).body.exitCode, 0);
      const log = session.text('console');
      const refusals = log.match(/Refused a connection to the control channel/g) ?? [];
      assert.equal(refusals.length, 5, log);
      for (const why of [/over the 65536 byte limit/, /not UTF-8 JSON/, /wrong or missing token/]) assert.match(log, why);
      assert.match(session.text('stdout'), /done\n$/);
    } finally {
      await session.stop();
    }
  });
});

describe('frame decoder', () => {
  it('decodes frames split at every byte boundary', () => {
    const frames = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: 'ü'.repeat(3) }), encodeFrame({ c: [1, 2] })]);
    for (let split = 0; split <= frames.length; split++) {
      const decoder = new FrameDecoder();
      const got = [...decoder.feed(frames.subarray(0, split)), ...decoder.feed(frames.subarray(split))];
      assert.deepEqual(got, [{ a: 1 }, { b: 'üüü' }, { c: [1, 2] }]);
    }
  });

  it('throws only FrameError on random and mutated input (seeded fuzz)', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const valid = encodeFrame({ type: 'event', event: 'stopped', body: { reason: 'step', threadId: 1 } });
    let errors = 0;
    for (let round = 0; round < 5000; round++) {
      const input = round % 2 === 0
        ? Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)))
        : Buffer.from(valid.map((byte) => (random() < 0.05 ? Math.floor(random() * 256) : byte)));
      const decoder = new FrameDecoder(1 << 16);
      try {
        decoder.feed(input);
      } catch (error) {
        assert.ok(error instanceof FrameError, `round ${round}: ${(error as Error).constructor.name}: ${(error as Error).message}`);
        errors++;
      }
    }
    assert.ok(errors > 100, `only ${errors} inputs were refused: the fuzz is not reaching the checks`);
  });
});
