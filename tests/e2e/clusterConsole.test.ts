/**
 * The operator console over two server processes (the CLI) on the shared Redis, in real Chromium:
 * the console of node A shows both nodes' health and the rooms of both nodes with each node's
 * part; a degrade level and a queue limit set in A's console hold on node B (its API and its
 * viewer say so); the page fits a 360 px phone; a node killed with -9 is marked down.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRoom, NodeStatus } from '../../protocol/src/index.ts';
import { type Node, startNodes, stopNodes, tokens } from '../helpers/cluster.ts';
import { RawClient } from '../helpers/rawClient.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { ARTIFACTS, DESKTOP, launchChromium, openPage, pollers, publishShot, sleep } from './support/browser.ts';

const PHONE_360 = { width: 360, height: 780 };

let nodes: Node[];
let browser: Browser;
const clients: RawClient[] = [];
const problems: string[] = [];
const prefix = uniquePrefix('console');

beforeAll(async () => {
  browser = await launchChromium(['--disable-quic', '--disable-sync']); // first: without Chromium no process is started
  nodes = await startNodes(2, REDIS_URL, prefix, ['--node-heartbeat-ms', '200', '--node-down-after-beats', '3', '--node-forget-after-beats', '300']);
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await browser?.close();
  await stopNodes(nodes ?? []);
});

const { until, waitText } = pollers(15_000, 50);

async function call(node: Node, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${node.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('the operator console over two nodes', () => {
  it('shows both nodes and the rooms of both, sets a room\'s level and queue limit for the other node, fits a phone, and marks a dead node down', async () => {
    const [a, b] = nodes as [Node, Node];
    const operator = await tokens.mint({ userId: 'console-op', name: 'Olga', role: 'operator' });
    const streamer = await tokens.mint({ userId: 'console-streamer', name: 'Sam', role: 'streamer' });
    for (const roomId of ['room-a', 'room-b']) {
      expect((await call(a, 'POST', '/api/rooms', streamer, { title: roomId, id: roomId })).status).toBe(201);
      expect((await call(a, 'POST', `/api/rooms/${roomId}/start`, streamer)).status).toBe(200);
    }
    const join = async (node: Node, roomId: string, n: number) => {
      const { client } = await RawClient.join(node.wsUrl, await tokens.mint({ userId: `cc-${roomId}-${n}`, name: `V${n}`, role: 'viewer' }), roomId);
      clients.push(client);
      return client;
    };
    await join(a, 'room-a', 1);
    const onB = await join(b, 'room-b', 1);
    await join(b, 'room-b', 2);
    const idOf = async (node: Node) => ((await call(node, 'GET', '/api/ops/nodes', operator)).body.nodes as NodeStatus[]).find((n) => n.self)!.nodeId;
    const [idA, idB] = [await idOf(a), await idOf(b)];

    const page = await openPage(browser, `${a.url}/operator?token=${operator}`, problems, DESKTOP);
    // Both nodes' health.
    await waitText('node A up', page.getByTestId(`node-state-${idA}`), 'Up');
    await waitText('node B up', page.getByTestId(`node-state-${idB}`), 'Up');
    await waitText('node B sockets', page.getByTestId(`node-sockets-${idB}`), '2');
    await waitText('node B rooms', page.getByTestId(`node-rooms-${idB}`), '1');
    expect(await page.locator(`tr[data-node="${idA}"] th`).textContent()).toContain('(this console)');
    expect(await page.locator(`tr[data-node="${idB}"] a.node-url`).getAttribute('href')).toBe(b.url);
    // The rooms of both nodes, each with its node.
    await waitText('room-a viewers', page.getByTestId('members-room-a'), '1');
    await waitText('room-b viewers', page.getByTestId('members-room-b'), '2');
    await waitText('room-b on node B', page.getByTestId('nodes-room-b'), new RegExp(`^${idB} 2 viewers · level 0$`));
    await waitText('room-a on node A', page.getByTestId('nodes-room-a'), new RegExp(`^${idA} 1 viewer · level 0$`));

    // A's console fixes room-b, which only node B hosts, at "commerce only".
    await page.getByLabel('Degrade level for room-b', { exact: true }).selectOption('3');
    await page.getByRole('button', { name: 'Apply degrade level to room-b' }).click();
    await waitText('console confirms', page.getByTestId('status'), 'room-b: degrade level fixed at 3 (Commerce only) on every node.');
    await onB.waitFor((m) => m.t === 'degrade' && m.level === 3);
    const onNodeB = async () => ((await call(b, 'GET', '/api/ops/rooms', operator)).body.rooms as ClusterRoom[]).find((r) => r.roomId === 'room-b')!;
    expect((await onNodeB()).local).toMatchObject({ level: 3, override: 3, reason: 'operator' });
    await waitText('console shows node B at 3', page.getByTestId('nodes-room-b'), new RegExp(`^${idB} 2 viewers · level 3$`));
    await waitText('console level', page.getByTestId('level-room-b'), '3 · Commerce only');

    // ...and its queue limit.
    await page.getByTestId('limit-input-room-b').fill('0');
    await page.getByTestId('set-limit-room-b').click();
    await waitText('console confirms limit', page.getByTestId('status'), 'room-b: queue limit set to 0 on every node.');
    await until('node B holds the limit', async () => (await onNodeB()).nodes.find((n) => n.nodeId === idB)?.settings.queueLimit, (limit) => limit === 0);
    await waitText('console shows the limit', page.getByTestId('queue-room-b'), 'limit 0');

    await screenshot(page, 'operator-cluster');
    // A 360 px phone: nothing wider than the screen, the controls within reach.
    await page.setViewportSize(PHONE_360);
    await sleep(200);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE_360.width);
    for (const testId of ['apply-level-room-b', 'set-limit-room-b', `node-state-${idB}`]) {
      const box = await page.getByTestId(testId).boundingBox();
      expect(box, testId).not.toBeNull();
      expect(box!.x, testId).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, testId).toBeLessThanOrEqual(PHONE_360.width);
    }
    await screenshot(page, 'operator-cluster-phone');

    // Node B dies without a word: the console marks it down and its viewers are no longer counted.
    b.child.kill('SIGKILL');
    await waitText('node B down', page.getByTestId(`node-state-${idB}`), 'Down');
    expect(await page.locator(`tr[data-node="${idB}"]`).getAttribute('data-state')).toBe('down');
    await waitText('room-b counted without node B', page.getByTestId('members-room-b'), '0');
    await waitText('room-b on a dead node', page.getByTestId('nodes-room-b'), /down$/);
    expect(problems).toEqual([]);
    for (const name of ['operator-cluster.png', 'operator-cluster-phone.png']) publishShot(name);
  }, 120_000);
});

async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(150);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
