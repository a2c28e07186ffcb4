import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/src/index.ts';
import { describeOptions } from '../../server/src/config.ts';
import { RawClient } from '../helpers/rawClient.ts';

const cli = ['--import', 'tsx', 'server/src/main.ts'];

function run(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [...cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** `serve` in dev mode on a free port, once it printed its banner: its WebSocket URL and the first demo viewer's token. */
async function startDevServer(args: string[]) {
  const child = run(['serve', '--port', '0', '--log-level', 'warn', ...args]);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const deadline = Date.now() + 15_000;
  while (!/viewer token \(viewer-1\): (\S+)/.test(stdout)) {
    if (Date.now() > deadline) throw new Error(`no banner: ${stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const wsUrl = /WebSocket\s+(\S+)/.exec(stdout)![1]!;
  const token = /viewer token \(viewer-1\): (\S+)/.exec(stdout)![1]!;
  return { child, stdout: () => stdout, wsUrl, token, exited };
}

describe('livecart CLI', () => {
  it('lists every option with its default and env var: an operator\'s in serve --help, the rest in serve --help-advanced', async () => {
    const { code, stdout } = await output(run(['serve', '--help']));
    expect(code).toBe(0);
    const advanced = await output(run(['serve', '--help-advanced']));
    expect(advanced.code).toBe(0);
    const listed = (text: string) => new Set([...text.matchAll(/^ {2}(--[a-z-]+) /gm)].map((m) => m[1]));
    for (const flag of ['--port', '--token-secret', '--max-frame-bytes', '--comment-rate']) expect(listed(stdout)).toContain(flag);
    for (const flag of ['--history-length', '--like-interval-ms', '--soft-buffer-bytes', '--hard-buffer-bytes']) expect(listed(advanced.stdout)).toContain(flag);
    expect(stdout).toContain('LIVECART_MAX_FRAME_BYTES');
    expect(advanced.stdout).toContain('LIVECART_HISTORY_LENGTH');
    for (const [group, text] of [['operator', stdout], ['advanced', advanced.stdout]] as const) {
      const expected = describeOptions(group).map((o) => o.flag);
      expect([...listed(text)].filter((flag) => !['--config', '--help', '--help-advanced'].includes(flag!))).toEqual(expected);
    }
    expect(describeOptions('operator').length).toBeLessThanOrEqual(31); // what an operator reads stays short
  });

  it('refuses invalid configuration with a clear message and exit code 2', async () => {
    const bad = await output(run(['serve', '--port', 'eighty']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('port');
    const unknown = await output(run(['serve', '--no-such-flag', '1']));
    expect(unknown.code).toBe(2);
    const env = await output(run(['serve'], { LIVECART_HARD_BUFFER_BYTES: '1024', LIVECART_SOFT_BUFFER_BYTES: '4096' }));
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('hardBufferBytes');
  });

  it('starts in dev mode, prints URLs and demo tokens, and on SIGTERM moves clients away with 4006 and exits 0', async () => {
    const { child, stdout, wsUrl, token, exited } = await startDevServer(['--drain-window-ms', '300']);
    expect(stdout()).toMatch(/Viewer\s+http:\/\/\S+\/viewer/);
    expect(stdout()).toMatch(/Streamer\s+http:\/\/\S+\/streamer/);
    expect(stdout()).toMatch(/Video\s+\d+ mediasoup workers?;/); // the worker npm install built
    expect(stdout()).toMatch(/Operator\s+http:\/\/\S+\/operator/);
    const httpUrl = wsUrl.replace('ws://', 'http://').replace('/ws', '');
    const dev = await fetch(`${httpUrl}/api/dev/token?name=Ann`);
    expect(dev.status).toBe(200);
    const { client, welcome } = await RawClient.join(wsUrl, token, 'demo');
    expect(welcome.t === 'welcome' && welcome.products.length).toBe(2);
    child.kill('SIGTERM');
    expect((await client.closed).code).toBe(CloseCode.MOVED);
    expect((await exited)[0]).toBe(0);
  });

  it('on SIGINT closes clients with 4000 (server restarting) and exits 0 without a drain window', async () => {
    const { child, wsUrl, token, exited } = await startDevServer(['--drain-window-ms', '600000', '--media', 'false']);
    const { client } = await RawClient.join(wsUrl, token, 'demo');
    child.kill('SIGINT');
    expect((await client.closed).code).toBe(CloseCode.SERVER_RESTARTING);
    expect((await exited)[0]).toBe(0);
  });
});
