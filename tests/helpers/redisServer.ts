import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface OwnRedisOptions {
  /**
   * true (tests): an fsync-always AOF, so a kill -9 and a restart keep every acknowledged write
   * (what "no accepted order is lost" needs). false (benches): no persistence, as the machine's Redis.
   */
  readonly durable?: boolean;
  /** Pin redis-server to this CPU list (`taskset -c`): a bench keeps it off the server's core. */
  readonly core?: string;
}

/** A redis-server of the test's (or bench's) own, on a free port. */
export class OwnRedis {
  #child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'livecart-redis-'));

  private constructor(readonly port: number, readonly options: OwnRedisOptions) {}

  static async start(options: OwnRedisOptions = {}): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), options);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const persistence = this.options.durable === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
    const command = ['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir];
    const [file, ...args] = this.options.core === undefined ? command : ['taskset', '-c', this.options.core, ...command];
    this.#child = spawn(file!, args, { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error('own redis-server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** redis-server's pid (taskset execs it). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Whether the redis-server process has ended (undefined: never started). */
  get exited(): boolean | undefined {
    const child = this.#child;
    return child === undefined ? undefined : child.exitCode !== null || child.signalCode !== null;
  }

  /** SIGKILL: no graceful save, like a crash. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
