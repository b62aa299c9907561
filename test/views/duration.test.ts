// Durations typed into Advance Loop Clock.
import * as assert from 'node:assert/strict';
import { parseSeconds } from '../../extension/commands/duration';

describe('Advance Loop Clock durations', () => {
  it('reads seconds, minutes and milliseconds', () => {
    assert.equal(parseSeconds('5'), 5);
    assert.equal(parseSeconds(' 0.5 '), 0.5);
    assert.equal(parseSeconds('90s'), 90);
    assert.equal(parseSeconds('2m'), 120);
    assert.equal(parseSeconds('250ms'), 0.25);
  });

  it('says what to type for anything else', () => {
    for (const bad of ['', '-1', 'soon', '1h', '1.2.3']) assert.match(String(parseSeconds(bad)), /Type a duration/);
  });
});
