// Bundles the extension with esbuild: dist/extension.js (VS Code entry, `vscode` external),
// dist/debugAdapter.js (standalone DAP server), dist/cli.js (`loopscope trace`) and
// dist/timelineView.js (the timeline webview's page script).
// With --tests it also bundles each test/**/*.test.ts into out/ for mocha.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'extension/extension.ts')], outfile: join(root, 'dist/extension.js'), external: ['vscode'] }),
  build({ ...common, entryPoints: [join(root, 'extension/adapter/debugAdapter.ts')], outfile: join(root, 'dist/debugAdapter.js') }),
  build({ ...common, entryPoints: [join(root, 'extension/cli/main.ts')], outfile: join(root, 'dist/cli.js'), banner: { js: '#!/usr/bin/env node' } }),
  // The timeline view's script runs in the webview, a browser page.
  build({ ...common, platform: 'browser', target: 'es2020', format: 'iife', entryPoints: [join(root, 'extension/timeline/timelineView.ts')], outfile: join(root, 'dist/timelineView.js') }),
]);

if (process.argv.includes('--tests')) {
  const tests = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.test.ts')) tests.push(full);
    }
  };
  walk(join(root, 'test'));
  await build({
    ...common, entryPoints: tests, outdir: join(root, 'out'), outbase: root, packages: 'external', external: ['vscode'],
  });
  console.log(`bundled ${tests.length} test files: ${tests.map((t) => relative(root, t)).join(', ')}`);
}
