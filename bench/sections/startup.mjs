// Start-up: from the DAP `launch` request to the `entry` stop (stopOnEntry) of the smallest asyncio
// program, against `python -c pass` and the same program run plainly, on the same interpreter,
// interleaved; and the size of each bundle in dist/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { LoopscopeSession, ROOT } from '../lib/dap.mjs';
import { runProcess } from '../lib/util.mjs';

const STARTUP = path.join(ROOT, 'bench', 'fixtures', 'startup.py');

async function loopscopeToEntry(python) {
  const session = new LoopscopeSession();
  try {
    await session.start();
    await session.launch({ program: STARTUP, python: python.path, cwd: path.dirname(STARTUP), stopOnEntry: true });
    const stop = await session.nextEvent('stopped', 60_000);
    if (stop.body.reason !== 'entry') throw new Error(`first stop was '${stop.body.reason}', not 'entry'`);
    return { launchToEntry: stop.receivedAt - session.launchStartedAt, spawnToEntry: stop.receivedAt - session.spawnedAt };
  } finally {
    await session.stop();
  }
}

export async function runStartup({ pythons, reps, log }) {
  const results = {};
  for (const python of pythons) {
    const cell = { pass: [], plainProgram: [], launchToEntry: [], spawnToEntry: [], errors: [] };
    for (let rep = 0; rep < reps; rep++) {
      try {
        cell.pass.push((await runProcess(python.path, ['-c', 'pass'])).wallMs);
        cell.plainProgram.push((await runProcess(python.path, [STARTUP])).wallMs);
        const { launchToEntry, spawnToEntry } = await loopscopeToEntry(python);
        cell.launchToEntry.push(launchToEntry);
        cell.spawnToEntry.push(spawnToEntry);
      } catch (error) {
        cell.errors.push(error.message.split('\n')[0]);
        log(`  ! start-up ${python.label}: ${error.message.split('\n')[0]}`);
      }
    }
    results[python.label] = cell;
  }
  log('  start-up done');
  return results;
}

export function bundleSizes() {
  const dist = path.join(ROOT, 'dist');
  return readdirSync(dist).filter((f) => f.endsWith('.js')).sort().map((file) => {
    const full = path.join(dist, file);
    return { file: `dist/${file}`, bytes: statSync(full).size, gzip: gzipSync(readFileSync(full)).length };
  });
}
