// Builds loopscope-<version>.vsix with @vscode/vsce, offline, and reports what it holds and its size.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, `loopscope-${version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--skip-license', '-o', out],
  { stdio: 'inherit', cwd: root });
const listing = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root }).toString();
console.log(`\n${out}: ${(statSync(out).size / 1024).toFixed(1)} KiB, holding:\n${listing}`);
