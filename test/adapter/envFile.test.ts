// The envFile parser with plain data: the Python extension's .env format and its substitutions.
import * as assert from 'node:assert/strict';
import { parseEnvFile } from '../../extension/adapter/envFile';

describe('envFile format', () => {
  const parse = (text: string, base: Record<string, string> = {}) => parseEnvFile(text, base);

  it('reads NAME=value lines and skips the rest', () => {
    assert.deepEqual(parse('\uFEFFA=1\r\n# comment\n\nB = two words \nnot a line\n9X=no\nC=\nD=x=y'),
      { A: '1', B: 'two words', C: '', D: 'x=y' });
  });

  it('strips quotes and turns \\n inside them into newlines', () => {
    assert.deepEqual(parse('A="x\\ny"\nB=\'z\\nw\'\nC=plain\\n\nD="unclosed'),
      { A: 'x\ny', B: 'z\nw', C: 'plain\\n', D: '"unclosed' });
  });

  it('replaces ${NAME} and ${env:NAME} from earlier lines, then the environment', () => {
    assert.deepEqual(parse('A=a\nB=${A}-${env:HOME}-${MISSING}.\nHOME=mine\nC=${HOME}', { HOME: '/home/u' }),
      { A: 'a', B: 'a-/home/u-.', HOME: 'mine', C: 'mine' });
  });

  it('keeps escaped and malformed references as they are', () => {
    assert.deepEqual(parse('A=a\nB=\\${A}\nC=cost \\$5\nD=${A:-x} ${A}\nE=${}'),
      { A: 'a', B: '${A}', C: 'cost $5', D: '${A:-x} ${A}', E: '${}' });
  });
});
