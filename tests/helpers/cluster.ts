import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { TokenService } from '../../server/src/auth/TokenService.ts';
import { TEST_SECRET } from './server.ts';

export interface Node {
  readonly url: string;
  readonly wsUrl: string;
  readonly child: ChildProcess;
}

/** `stopNodes` sends SIGTERM, which drains over this window (a test may pass its own `--drain-window-ms`). */
const STOP_DRAIN_WINDOW_MS = 200;

/** Real server processes (the CLI) sharing one Redis, as a deployment would run them; `extraArgs` may differ per node (by index). */
export async function startNodes(count: number, redisUrl: string, prefix: string, extraArgs: string[] | ((index: number) => string[]) = []): Promise<Node[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => startNode(redisUrl, prefix, typeof extraArgs === 'function' ? extraArgs(index) : extraArgs)));
}

async function startNode(redisUrl: string, prefix: string, extraArgs: string[]): Promise<Node> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/src/main.ts', 'serve', '--port', '0', '--redis', redisUrl, '--redis-prefix', prefix, '--token-secret', TEST_SECRET, '--log-level', 'info', '--degrade-event-loop-ms', '600000', '--degrade-lag-ms', '600000', '--drain-window-ms', String(STOP_DRAIN_WINDOW_MS), ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const deadline = Date.now() + 20_000;
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  for (;;) {
    const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(output);
    if (match) {
      const url = match[1]!;
      return { url, wsUrl: `${url.replace('http://', 'ws://')}/ws`, child };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`node did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopNodes(nodes: readonly Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

export const tokens = new TokenService(TEST_SECRET, 3600);

/** An HTTP call to a node's API as JSON, with a bearer token when given; answers status and parsed body. */
export async function call(node: Pick<Node, 'url'>, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}
