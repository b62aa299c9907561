// Async tests under a test runner ("module": "pytest" or "unittest"), through the bundled adapter: a
// line breakpoint in the test and one in the code under test stop, and the views show the test's loop.
// pytest with pytest-asyncio and anyio's plugin comes from Debian (.ci/run installs it) for
// /usr/bin/python3; IsolatedAsyncioTestCase is in every supported CPython.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES, markers, Session, Stop, supportedPythons } from './harness';

const dir = path.join(FIXTURES, 'testrunners');
const shop = path.join(dir, 'shop.py');
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasPytest = spawnSync(SYSTEM_PYTHON, ['-c', 'import pytest, pytest_asyncio, anyio'], { stdio: 'ignore' }).status === 0;

/** Run a test module under the runner, stopping in the test and then in the code under test. */
async function stopsInTestAndCode(launch: Record<string, unknown>, testFile: string): Promise<void> {
  const s = new Session();
  await s.start();
  try {
    await s.launch({ cwd: dir, ...launch }, async () => {
      await s.client.setBreakpointsRequest({ source: { path: testFile }, breakpoints: [{ line: markers(testFile)('test') }] });
      await s.client.setBreakpointsRequest({ source: { path: shop }, breakpoints: [{ line: markers(shop)('take') }] });
    });
    const inTest = await s.nextStop();
    await expectStop(s, inTest, testFile, 'test', 'test_take');
    const snapshot = await s.client.customRequest('loopscope/snapshot', { maxTasks: 100 });
    const held = snapshot.body.loops.filter((loop: { state: string }) => loop.state === 'paused');
    assert.equal(held.length, 1, `the test's loop is shown: ${JSON.stringify(snapshot.body.loops.map((l: any) => l.state))}`);
    assert.ok(held[0].tasksTotal >= 1);
    const { body } = await s.client.threadsRequest();
    assert.ok(body.threads.some((t) => t.name.startsWith('Event loop')), JSON.stringify(body.threads));
    await s.client.continueRequest({ threadId: inTest.body.threadId });
    const inCode = await s.nextStop();
    await expectStop(s, inCode, shop, 'take', 'take');
    await s.client.continueRequest({ threadId: inCode.body.threadId });
    assert.equal((await s.next('exited')).body.exitCode, 0, s.text());
  } finally {
    await s.stop();
  }
}

async function expectStop(s: Session, stop: Stop, file: string, marker: string, functionName: string): Promise<void> {
  assert.equal(stop.body.reason, 'breakpoint');
  const { body } = await s.client.stackTraceRequest({ threadId: stop.body.threadId });
  const top = body.stackFrames[0];
  assert.equal(top.source?.path, file);
  assert.equal(top.line, markers(file)(marker));
  assert.equal(top.name.replace(/^.*\./, ''), functionName);
}

describe('tests under a test runner', () => {
  if (!hasPytest) {
    it('pytest (skipped: /usr/bin/python3 has no pytest, pytest-asyncio and anyio; .ci/run installs Debian\'s)', function () {
      console.log('      note: install python3-pytest, python3-pytest-asyncio and python3-anyio for /usr/bin/python3 to run these');
      this.skip();
    });
  } else {
    it('"module": "pytest" with pytest-asyncio', () =>
      stopsInTestAndCode({ module: 'pytest', python: SYSTEM_PYTHON, args: ['-q', '-p', 'no:cacheprovider', 'test_with_pytest_asyncio.py'] },
        path.join(dir, 'test_with_pytest_asyncio.py')));

    it('"module": "pytest" with anyio\'s plugin', () =>
      stopsInTestAndCode({ module: 'pytest', python: SYSTEM_PYTHON, args: ['-q', '-p', 'no:cacheprovider', 'test_with_anyio.py'] },
        path.join(dir, 'test_with_anyio.py')));
  }

  for (const python of supportedPythons()) {
    it(`"module": "unittest" with IsolatedAsyncioTestCase (Python ${python.version})`, () =>
      stopsInTestAndCode({ module: 'unittest', python: python.path, args: ['test_with_unittest'] }, path.join(dir, 'test_with_unittest.py')));
  }
});
