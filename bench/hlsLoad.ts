/**
 * The HLS load generator (a child process of bench:media on the load core): many simulated live
 * players against one node's `GET /hls/ROOM/…`. Each player, like hls.js on a live stream, reloads
 * the playlist every target duration (from a random phase, skipping a reload while the previous one
 * is unanswered), starts 3 segments behind the live edge, and fetches every new segment once, in
 * order. A player has one keep-alive HTTP/1.1 connection (raw `net`, one request at a time, as over
 * a CDN's single connection); only status, Content-Length and the playlist's text are read, segment
 * bodies are counted and dropped.
 *
 * Answers `sample` with cumulative counters and the fetch latencies (request written → last byte)
 * since the previous sample.
 */
import net from 'node:net';

export type ToHlsLoad = { t: 'players'; count: number; host: string; port: number; room: string } | { t: 'sample' } | { t: 'stop' };

export interface HlsLoadSample {
  t: 'sample';
  at: number;
  players: number;
  requests: { playlist: number; segment: number };
  /** Bytes read: status lines, headers and bodies. */
  bytes: number;
  segmentBytes: number;
  /** Answers other than 200, and requests lost with their connection. */
  errors: number;
  /** Segments that slid out of the playlist before the player fetched them. */
  missed: number;
  /** Connections that closed under a player (it opens another at its next reload). */
  disconnects: number;
  /** ms, since the previous sample. */
  latency: { playlist: number[]; segment: number[] };
}

export type FromHlsLoad = { t: 'ready' } | { t: 'playing'; players: number; failed: number } | HlsLoadSample | { t: 'stopped' };

type Kind = 'playlist' | 'segment';

interface Request {
  readonly path: string;
  readonly kind: Kind;
  readonly done: (status: number, body: string) => void;
  sentAt: number;
}

const counters = { playlist: 0, segment: 0, bytes: 0, segmentBytes: 0, errors: 0, missed: 0, disconnects: 0 };
let latency: { playlist: number[]; segment: number[] } = { playlist: [], segment: [] };
/** One read buffer for every socket: bodies are counted in place, never kept. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);
const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive HTTP/1.1 connection, one request at a time, requests queued behind. */
class HttpConnection {
  readonly socket: net.Socket;
  readonly #host: string;
  readonly #queue: Request[] = [];
  #current: Request | undefined;
  #head: Buffer | undefined;
  #bodyLeft = -1;
  #status = 0;
  #body: Buffer[] = [];
  closed = false;

  constructor(host: string, port: number, connected: (error?: Error) => void) {
    this.#host = `${host}:${port}`;
    this.socket = net.connect({ host, port, noDelay: true, onread: { buffer: readBuffer, callback: (n, buf) => { this.#read(buf as Buffer, n); return true; } } });
    this.socket.once('connect', () => connected());
    this.socket.on('error', (error) => { if (!this.closed) connected(error); });
    this.socket.on('close', () => this.#closed());
  }

  get busy(): boolean {
    return this.#current !== undefined || this.#queue.length > 0;
  }

  get(path: string, kind: Kind, done: Request['done']): void {
    if (this.closed) return done(0, '');
    this.#queue.push({ path, kind, done, sentAt: 0 });
    if (this.#current === undefined) this.#sendNext();
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  #sendNext(): void {
    const next = this.#queue.shift();
    this.#current = next;
    if (next === undefined) return;
    next.sentAt = performance.now();
    this.socket.write(`GET ${next.path} HTTP/1.1\r\nHost: ${this.#host}\r\n\r\n`);
  }

  #read(buf: Buffer, n: number): void {
    counters.bytes += n;
    let off = 0;
    while (off < n && this.#current !== undefined) {
      if (this.#bodyLeft < 0) {
        const carried = this.#head?.length ?? 0;
        const view = this.#head === undefined ? buf.subarray(off, n) : Buffer.concat([this.#head, buf.subarray(off, n)]);
        const end = view.indexOf(HEADER_END);
        if (end < 0) {
          this.#head = Buffer.from(view);
          return;
        }
        this.#head = undefined;
        const head = view.toString('latin1', 0, end);
        this.#status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (length === null) { // every answer of the HLS routes has a length; anything else ends the connection
          this.socket.destroy();
          return;
        }
        this.#bodyLeft = Number(length[1]);
        off += end + 4 - carried;
      }
      const take = Math.min(this.#bodyLeft, n - off);
      if (this.#current.kind === 'playlist') this.#body.push(Buffer.from(buf.subarray(off, off + take)));
      else counters.segmentBytes += take;
      this.#bodyLeft -= take;
      off += take;
      if (this.#bodyLeft === 0) this.#complete();
    }
  }

  #complete(): void {
    const request = this.#current!;
    const body = request.kind === 'playlist' ? Buffer.concat(this.#body).toString('utf8') : '';
    this.#body = [];
    this.#bodyLeft = -1;
    counters[request.kind]++;
    latency[request.kind].push(performance.now() - request.sentAt);
    if (this.#status !== 200) counters.errors++;
    this.#sendNext();
    request.done(this.#status, body);
  }

  #closed(): void {
    const lost = [...(this.#current === undefined ? [] : [this.#current]), ...this.#queue.splice(0)];
    this.#current = undefined;
    if (!this.closed) {
      counters.disconnects++;
      counters.errors += lost.length;
    }
    this.closed = true;
    for (const r of lost) r.done(0, '');
  }
}

/** How many segments behind the live edge a player starts (hls.js: liveSyncDurationCount). */
const START_BEHIND = 3;

class Player {
  #connection: HttpConnection | undefined;
  #next = -1;
  #reloading = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #targetMs = 1000;

  constructor(readonly host: string, readonly port: number, readonly room: string) {}

  /** Connects; reloads start after `phaseMs`. */
  start(phaseMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.#connection = new HttpConnection(this.host, this.port, (error) => resolve(error === undefined));
      this.#timer = setTimeout(() => this.#tick(), phaseMs);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#connection?.close();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.#tick(), this.#targetMs);
    if (this.#reloading) return;
    if (this.#connection === undefined || this.#connection.closed) this.#connection = new HttpConnection(this.host, this.port, () => undefined);
    this.#reloading = true;
    this.#connection.get(`/hls/${this.room}/index.m3u8`, 'playlist', (status, text) => {
      this.#reloading = false;
      if (status === 200) this.#playlist(text);
    });
  }

  #playlist(text: string): void {
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
    if (Number.isFinite(target) && target > 0) this.#targetMs = target * 1000;
    const names = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (!Number.isFinite(sequence) || names.length === 0) return;
    if (this.#next < 0) this.#next = sequence + Math.max(0, names.length - START_BEHIND);
    if (this.#next < sequence) {
      counters.missed += sequence - this.#next;
      this.#next = sequence;
    }
    for (let i = this.#next - sequence; i < names.length; i++) this.#connection!.get(`/hls/${this.room}/${names[i]}`, 'segment', () => undefined);
    this.#next = Math.max(this.#next, sequence + names.length);
  }
}

/** Connections opened at once when players are added (a burst past the server's accept backlog would wait on SYN retries). */
const CONNECT_BATCH = 200;

async function main(): Promise<void> {
  const send = (m: FromHlsLoad) => process.send!(m);
  const players: Player[] = [];
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToHlsLoad) => {
    void (async () => {
      if (m.t === 'players') {
        while (players.length > m.count) players.pop()!.stop();
        let failed = 0;
        while (players.length < m.count) {
          const batch = Array.from({ length: Math.min(CONNECT_BATCH, m.count - players.length) }, () => new Player(m.host, m.port, m.room));
          players.push(...batch);
          const started = await Promise.all(batch.map((p) => p.start(Math.random() * 1000)));
          failed += started.filter((ok) => !ok).length;
        }
        send({ t: 'playing', players: players.length, failed });
      } else if (m.t === 'sample') {
        send({ t: 'sample', at: Date.now(), players: players.length, requests: { playlist: counters.playlist, segment: counters.segment }, bytes: counters.bytes, segmentBytes: counters.segmentBytes, errors: counters.errors, missed: counters.missed, disconnects: counters.disconnects, latency });
        latency = { playlist: [], segment: [] };
      } else {
        for (const p of players.splice(0)) p.stop();
        send({ t: 'stopped' });
        setTimeout(() => process.exit(0), 100);
      }
    })().catch((error: unknown) => process.send!({ t: 'error', message: (error as Error).stack ?? String(error) }));
  });
  send({ t: 'ready' });
}

await main();
