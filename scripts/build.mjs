#!/usr/bin/env node
/**
 * Compiles the server, protocol and SDK to JavaScript with type declarations (tsconfig.build.json),
 * and copies the built web pages beside them, so that the output folder runs with plain `node`:
 *
 *   node scripts/build.mjs [OUT_DIR]      (default: build; `npm run build` builds the pages first)
 *
 * Layout: OUT_DIR/server/src/main.js (the server; `server/bin/livecart.mjs` runs build/ from there),
 * OUT_DIR/client/src/index.js + .d.ts (the SDK, package.json `exports` "./client"),
 * OUT_DIR/protocol/src/*, and OUT_DIR/client/web/dist (the pages: the compiled StaticFiles.js reads
 * them at the same place relative to itself as the source does, client/web/dist).
 *
 * OUT_DIR is emptied first, so nothing of a file that was removed from the sources is left behind.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(root, process.argv[2] ?? 'build');
if (outDir === root || !outDir.startsWith(root + sep)) {
  // Compiled files import their dependencies from the repository's node_modules by walking up from
  // their own folder: an output outside the repository could not find them.
  console.error(`build: the output folder must be inside ${root} (got ${outDir})`);
  process.exit(2);
}

const t0 = Date.now();
rmSync(outDir, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error(`build: tsc failed (exit ${compiled.status ?? compiled.signal})`);
  process.exit(1);
}

const pages = join(root, 'client', 'web', 'dist');
if (existsSync(join(pages, 'viewer.html'))) {
  cpSync(pages, join(outDir, 'client', 'web', 'dist'), { recursive: true });
} else {
  console.warn('build: client/web/dist has no pages (run `npm run build:web`, or `npm run build` for both): the compiled server will answer 503 for them');
}
console.log(`build: ${relative(root, outDir)}/ ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (entry: ${relative(root, join(outDir, 'server', 'src', 'main.js'))})`);
