// Launch configurations checked against the generated launch schema: what is wrong is said in
// launch.json's own terms. Pure: no adapter, no Python.
import * as assert from 'node:assert/strict';
import { checkLaunchArguments, expected } from '../../extension/adapter/launchCheck';
import { LAUNCH_OPTIONS_SCHEMA } from '../../extension/adapter/launchOptions';
import { ATTACH_OPTIONS_SCHEMA } from '../../extension/adapter/attachOptions';
import { START_DEFAULTS } from '../../extension/adapter/protocol';
import { startArguments } from '../../extension/adapter/startArguments';

describe('launch configuration check', () => {
  it('accepts a configuration that only names a program', () => {
    assert.equal(checkLaunchArguments({ program: 'app.py' }), undefined);
  });

  it('says which option is wrong and what it must be', () => {
    const cases: [object, string][] = [
      [{ program: '' }, '"program" in launch.json must be a non-empty string.'],
      [{ program: 'a.py', args: [1] }, '"args" in launch.json must be a list of strings.'],
      [{ program: 'a.py', clock: 'slow' }, '"clock" in launch.json must be "frozen", "wall" or "virtual".'],
      [{ program: 'a.py', maxTaskThreads: -1 }, '"maxTaskThreads" in launch.json must be a whole number, 0 or more.'],
      [{ program: 'a.py', maxTaskThreads: 1.5 }, '"maxTaskThreads" in launch.json must be a whole number, 0 or more.'],
      [{ program: 'a.py', stopOnEntry: 'yes' }, '"stopOnEntry" in launch.json must be true or false.'],
      [{ program: 'a.py', env: { A: 1 } }, '"env" in launch.json must be an object mapping names to strings or null.'],
      [{ program: 'a.py', taskSwitchHistory: 'never' }, '"taskSwitchHistory" in launch.json must be "whileStepping" or "always".'],
    ];
    for (const [args, message] of cases) assert.equal(checkLaunchArguments(args), message, JSON.stringify(args));
  });

  it('needs exactly one of program and module', () => {
    assert.match(checkLaunchArguments({})!, /set "program" .* or "module"/);
    assert.match(checkLaunchArguments({ program: 'a.py', module: 'b' })!, /either "program" or "module"/);
  });

  it('takes the shared options\' schema and defaults from the protocol', () => {
    const properties = LAUNCH_OPTIONS_SCHEMA.properties as Record<string, { default?: unknown }>;
    for (const [name, value] of Object.entries(START_DEFAULTS)) assert.deepEqual(properties[name].default, value, name);
    assert.equal(expected({ type: 'array', items: { type: 'string' } }), 'a list of strings');
  });

  it('declares every setting of the start request for launch and attach, and passes each on', () => {
    for (const name of Object.keys(START_DEFAULTS)) {
      assert.ok(name in LAUNCH_OPTIONS_SCHEMA.properties, `"${name}" is a start setting but no launch option`);
      assert.ok(name in ATTACH_OPTIONS_SCHEMA.properties, `"${name}" is a start setting but no attach option`);
    }
    const given = { program: 'a.py', trackOwners: false, consoleAwait: 'runLoop', clock: 'wall' };
    assert.deepEqual(startArguments(given), { trackOwners: false, consoleAwait: 'runLoop', clock: 'wall' });
  });
});
