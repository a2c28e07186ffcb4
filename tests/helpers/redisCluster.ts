import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { isFree } from './redisServer.ts';

const run = promisify(execFile);

interface ClusterNode {
  readonly port: number;
  child: ChildProcess;
}

/**
 * A real Redis Cluster of the test's own from the machine's redis-server: 3 masters and 3
 * replicas on free ports, created with `redis-cli --cluster create`. `killMaster` kill -9s the
 * master of a slot, and `awaitFailover` waits until its replica has taken the slot over.
 */
export class OwnRedisCluster {
  readonly #nodes: ClusterNode[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), 'livecart-cluster-'));

  private constructor() {}

  static async start(masters = 3, replicasPerMaster = 1): Promise<OwnRedisCluster> {
    const cluster = new OwnRedisCluster();
    try {
      const count = masters * (1 + replicasPerMaster);
      const ports: number[] = [];
      while (ports.length < count) {
        // The cluster bus listens on port + 10000: both must be free and distinct. Both are taken
        // below the kernel's ephemeral range (32768 up), where no outgoing connection's port can
        // take the bus port between this check and redis-server's bind.
        const port = 20000 + Math.floor(Math.random() * 2768);
        if (!ports.includes(port) && (await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
      }
      for (const port of ports) cluster.#nodes.push({ port, child: cluster.#spawn(port) });
      await Promise.all(ports.map((port) => waitForPing(port)));
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], { timeout: 30_000 });
      await cluster.awaitHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Seed addresses, comma-separated, as `--redis` takes them. */
  get url(): string {
    return this.#nodes.map((n) => `redis://127.0.0.1:${n.port}`).join(',');
  }

  get seeds(): string[] {
    return this.#nodes.map((n) => `redis://127.0.0.1:${n.port}`);
  }

  /** The live redis-server processes (a bench pins them and reads their CPU). */
  get pids(): number[] {
    return this.#live().map((n) => n.child.pid!);
  }

  #spawn(port: number): ChildProcess {
    return spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(this.#dir, `nodes-${port}.conf`), '--cluster-node-timeout', '1000',
        // A replica whose link to its master is only just broken may still be promoted (no "too old" data check in a test).
        '--cluster-replica-validity-factor', '0', '--dir', this.#dir,
      ],
      { stdio: 'ignore' },
    );
  }

  /** The port of the master serving `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    const probe = new Redis(this.#nodes.find((n) => n.child.exitCode === null && n.child.signalCode === null)!.port, { maxRetriesPerRequest: 0 });
    try {
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', key));
      const slots = (await probe.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (range === undefined) throw new Error(`no master for slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      probe.disconnect();
    }
  }

  /** The port of a replica of the master on `masterPort`. */
  async replicaOf(masterPort: number): Promise<number> {
    const info = await replicationInfo(masterPort);
    const port = /slave\d+:ip=[^,]+,port=(\d+)/.exec(info)?.[1];
    if (port === undefined) throw new Error(`master ${masterPort} has no replica`);
    return Number(port);
  }

  /** SIGSTOP: the node freezes (its links stay open, nothing is answered or replicated) until `resume`. */
  pause(port: number): void {
    this.#nodes.find((n) => n.port === port)!.child.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.#nodes.find((n) => n.port === port)!.child.kill('SIGCONT');
  }

  /** kill -9 of the master serving `key`'s slot; resolves with its port once the process is gone. */
  async killMasterOf(key: string): Promise<number> {
    const port = await this.masterOf(key);
    const node = this.#nodes.find((n) => n.port === port)!;
    const exited = once(node.child, 'exit');
    node.child.kill('SIGKILL');
    await exited;
    return port;
  }

  /** Starts a killed node again on its port: it rejoins the cluster (a killed master comes back as its successor's replica). */
  async restart(port: number): Promise<void> {
    const node = this.#nodes.find((n) => n.port === port)!;
    node.child = this.#spawn(port);
    await waitForPing(port);
  }

  /**
   * Waits until every slot is served (a replica took over a killed master's slots) and every
   * live replica's link to its master is up: a WAIT for one replica can be met.
   */
  async awaitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(this.#live().map((n) => Promise.all([clusterInfo(n.port), replicationInfo(n.port)]).then((parts) => parts.join('\n')).catch(() => '')));
      const clusterOk = states.length > 0 && states.every((s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s));
      const replicasUp = states.every((s) => !/role:slave/.test(s) || /master_link_status:up/.test(s));
      if (clusterOk && replicasUp) return;
      if (Date.now() > deadline) throw new Error(`cluster not healthy: ${states.join(' | ').replace(/\r?\n/g, ' ').slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  #live(): ClusterNode[] {
    return this.#nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#live().map(async (n) => {
        const exited = once(n.child, 'exit');
        n.child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function clusterInfo(port: number): Promise<string> {
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return String(await probe.call('CLUSTER', 'INFO'));
  } finally {
    probe.disconnect();
  }
}

async function replicationInfo(port: number): Promise<string> {
  const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await probe.info('replication');
  } finally {
    probe.disconnect();
  }
}

/** Resolves once a redis-server answers PING on `port` (10 s at most). */
export async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
}
