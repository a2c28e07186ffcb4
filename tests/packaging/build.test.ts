/**
 * The production build as a user gets it: `scripts/build.mjs` (what `npm run build` runs after the
 * pages' build) compiles into a scratch folder laid out like the package (package.json, server/bin,
 * build/), and then plain `node` runs it, with no TypeScript loader; a shop's TypeScript project
 * imports the SDK as `livecart/client`. Needs the pages built first (`npm test` does: `pretest`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Without NODE_OPTIONS: nothing of the test runner's may load TypeScript into the children.
const { NODE_OPTIONS: _ignored, ...plainEnv } = process.env;

let scratch: string;
let launcher: string;

interface Ran { code: number | null; stdout: string; stderr: string }

async function run(command: string, args: string[], cwd = root): Promise<Ran> {
  const child = spawn(command, args, { cwd, env: plainEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A child's stdout and stderr as one text, and a wait for a pattern in it. */
function watch(child: ChildProcess) {
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return {
    text: () => output,
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${pattern} not seen (exit ${child.exitCode}): ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

beforeAll(async () => {
  mkdirSync(join(root, '.scratch'), { recursive: true });
  // Inside the repository: the compiled files find their dependencies in its node_modules.
  scratch = mkdtempSync(join(root, '.scratch', 'build-'));
  const built = await run(process.execPath, ['scripts/build.mjs', join(scratch, 'build')]);
  if (built.code !== 0) throw new Error(`build failed (${built.code}): ${built.stdout}\n${built.stderr}`);
  copyFileSync(join(root, 'package.json'), join(scratch, 'package.json'));
  mkdirSync(join(scratch, 'server', 'bin'), { recursive: true });
  launcher = join(scratch, 'server', 'bin', 'livecart.mjs');
  copyFileSync(join(root, 'server', 'bin', 'livecart.mjs'), launcher);
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('production build', () => {
  it('the compiled server starts with plain node, logs JSON lines when stdout is no terminal, serves /healthz and the pages, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--media', 'false', '--drain-window-ms', '0'], { env: plainEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = watch(child);
    try {
      const url = (await output.waitFor(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/))[1]!;
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const viewer = await fetch(`${url}/viewer?room=demo`);
      expect(viewer.status, 'the pages are copied into the build (npm run build:web first)').toBe(200);
      expect(viewer.headers.get('content-type')).toContain('text/html');
      await output.waitFor(/Viewer\s+http:\/\/\S+\/viewer/);
      const logLines = output.text().split('\n').filter((line) => line.includes('"level"'));
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 60_000);

  it('without its copy of the pages, the compiled server\'s pages say to run npm run build (what makes that copy)', async () => {
    rmSync(join(scratch, 'build', 'client', 'web', 'dist'), { recursive: true, force: true });
    const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--media', 'false', '--drain-window-ms', '0'], { env: plainEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = watch(child);
    try {
      const url = (await output.waitFor(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/))[1]!;
      const viewer = await fetch(`${url}/viewer?room=demo`);
      expect(viewer.status).toBe(503);
      const page = await viewer.text();
      expect(page).toContain('<code>build/client/web/dist</code>');
      expect(page).toContain('<code>npm run build</code>');
      expect(await (await fetch(`${url}/assets/app.js`)).text()).toBe('pages not built: run npm run build\n');
    } finally {
      expect(await stop(child)).toBe(0);
    }
  }, 60_000);

  it('says to build first when build/ is missing', async () => {
    const bare = mkdtempSync(join(scratch, 'bare-'));
    mkdirSync(join(bare, 'server', 'bin'), { recursive: true });
    copyFileSync(launcher, join(bare, 'server', 'bin', 'livecart.mjs'));
    const result = await run(process.execPath, [join(bare, 'server', 'bin', 'livecart.mjs'), 'serve']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('npm run build');
  });

  it('the compiled server and SDK import only Node built-ins and runtime dependencies', () => {
    // Statements at the start of a line (not the examples in doc comments), and dynamic imports.
    const imports = [/^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      const specifiers = imports.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]!));
      for (const specifier of specifiers) {
        if (specifier.startsWith('.')) {
          expect(specifier, `${file}: a relative import left with its .ts extension`).not.toMatch(/\.ts$/);
          visit(resolve(dirname(file), specifier));
        } else if (!isBuiltin(specifier)) {
          packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
        }
      }
    };
    visit(join(scratch, 'build', 'server', 'src', 'main.js'));
    visit(join(scratch, 'build', 'client', 'src', 'index.js'));
    expect(seen.size).toBeGreaterThan(50);
    expect([...packages].filter((name) => !(name in pkg.dependencies))).toEqual([]);
    expect([...packages]).toContain('pino-pretty');
  });

  it('livecart/client resolves for a shop\'s code, with the SDK\'s types', async () => {
    const shop = join(scratch, 'shop');
    mkdirSync(join(shop, 'node_modules'), { recursive: true });
    symlinkSync(scratch, join(shop, 'node_modules', 'livecart'), 'dir');
    writeFileSync(join(shop, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }));
    writeFileSync(
      join(shop, 'shop.ts'),
      [
        "import { connect, isLivecartError, type CartAnswer, type LivecartClient } from 'livecart/client';",
        "const client: LivecartClient = connect({ url: 'ws://127.0.0.1:1/ws', token: 't', room: 'demo', reconnect: false });",
        "export async function add(): Promise<CartAnswer['status'] | 'error'> {",
        "  try { return (await client.addToCart('mug-1')).status; } catch (error) { if (isLivecartError(error)) return 'error'; throw error; }",
        '}',
        '// Real types, not `any`: a number is no comment text.',
        '// @ts-expect-error',
        'void client.comment(42);',
      ].join('\n'),
    );
    // A browser bundler's settings (Vite's template) and Node's.
    for (const [module, moduleResolution] of [['esnext', 'bundler'], ['nodenext', 'nodenext']] as const) {
      writeFileSync(
        join(shop, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module, moduleResolution, strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2023', 'DOM'], types: [] }, files: ['shop.ts'] }),
      );
      const checked = await run(process.execPath, [tsc, '-p', shop, '--traceResolution'], shop);
      expect(checked.code, `${moduleResolution}: ${checked.stdout.split('\n').filter((l) => l.includes('error')).join('\n')}`).toBe(0);
      expect(checked.stdout).toContain(`Module name 'livecart/client' was successfully resolved to '${join(scratch, 'build', 'client', 'src', 'index.d.ts')}'`);
    }
    const loaded = await run(process.execPath, ['--input-type=module', '-e', "const sdk = await import('livecart/client'); console.log(typeof sdk.connect, typeof sdk.LivecartError, sdk.PROTOCOL_VERSION)"], shop);
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout.trim()).toMatch(/^function function \d+$/);
  }, 120_000);

  it.runIf(existsSync('/usr/bin/script'))('logs are pretty, one line per entry, on a terminal', async () => {
    // util-linux `script` gives the server a pseudo-terminal as stdout, as a developer's shell does.
    const child = spawn('script', ['-qfec', `'${process.execPath}' '${launcher}' serve --port 0 --media false`, '/dev/null'], { env: plainEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const output = watch(child);
    try {
      await output.waitFor(/Viewer\s+http:\/\/\S+\/viewer/);
      // eslint-disable-next-line no-control-regex
      const text = output.text().replace(/\u001b\[[0-9;]*m/g, '');
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening \{"url":"http:\/\/127\.0\.0\.1:\d+","devMode":true\}\r?$/m);
      expect(text).not.toContain('"level"');
    } finally {
      await stop(child);
    }
  }, 60_000);

  it('.ci/run runs the README\'s test command, exactly', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
    const commands = [...quickStart.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]!);
    expect(commands).toEqual(['npm install && npm start', 'npm ci && npm test']);
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8').split('\n');
    expect(ci).toContain(commands[1]);
  });
});
