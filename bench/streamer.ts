/**
 * The sender: one streamer WebSocket that posts `comment`s at a steady rate (text carries the send
 * time) and pins a product every second, and maps each `ok`'s seq back to its send time.
 * Runs inside the orchestrator process (low rate: a few hundred frames per second).
 */
import type net from 'node:net';
import { decode, encode } from '../protocol/src/codec.ts';
import { PRODUCTS, commentText, nowMs } from './scenario.ts';
import { FrameSplitter, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, connectWebSocket, maskedFrame } from './wsClient.ts';

interface Reply {
  t: string;
  id?: number;
  seq?: number;
  result?: { seq?: number };
  code?: number;
  message?: string;
}

export interface PhaseResult {
  /** Epoch ms of the first send. */
  t0: number;
  /** Epoch ms after the last send was issued. */
  sendEnd: number;
  comments: number;
  pins: number;
  /** Sequenced events acknowledged with `ok`, i.e. published to the room. */
  okEvents: number;
  errors: Record<string, number>;
  /** seq → send time (epoch ms) of every acknowledged event. */
  sentAt: Map<number, number>;
  firstSeq: number;
  lastSeq: number;
  /** Replies still outstanding when we stopped waiting. */
  unanswered: number;
}

export class Streamer {
  private socket!: net.Socket;
  private nextId = 1;
  private readonly pending = new Map<number, { sentMs: number; resolve: (r: Reply) => void }>();
  private closedWith: string | null = null;

  private constructor() {}

  static async connect(host: string, port: number, token: string, room: string): Promise<Streamer> {
    const s = new Streamer();
    const splitter = new FrameSplitter((op, buf, start, len) => s.onFrame(op, buf.subarray(start, start + len)));
    s.socket = await connectWebSocket({ host, port, path: '/ws' }, (buf, n) => splitter.push(buf, n));
    s.socket.on('close', () => {
      s.closedWith ??= 'socket closed';
    });
    const welcome = await s.request({ t: 'hello', v: 1, token, room });
    if (welcome.t !== 'welcome') throw new Error(`streamer hello refused: ${welcome.code} ${welcome.message}`);
    return s;
  }

  private onFrame(op: number, payload: Buffer): void {
    if (op === OP_BINARY) {
      // Room events (sequenced frames start with fixmap | "seq") are the streamer's own fan-out copy: skip them.
      if (payload.length > 5 && payload[1] === 0xa3 && payload[2] === 0x73 && payload[3] === 0x65 && payload[4] === 0x71) return;
      const msg = decode(payload) as Reply;
      if ((msg.t === 'ok' || msg.t === 'err' || msg.t === 'welcome') && typeof msg.id === 'number') {
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p.resolve(msg);
        }
      }
    } else if (op === OP_PING) {
      this.socket.write(maskedFrame(OP_PONG, payload));
    } else if (op === OP_CLOSE) {
      this.closedWith = `close ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005}`;
    }
  }

  /** Sends one request; resolves with its reply. */
  request(body: Record<string, unknown>, sentMs = nowMs()): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { sentMs, resolve });
      this.socket.write(maskedFrame(OP_BINARY, encode({ ...body, id })));
    });
  }

  async addProducts(): Promise<void> {
    for (const product of PRODUCTS) await this.request({ t: 'addProduct', product });
  }

  /**
   * Sends `rate` comments per second for `seconds` and one `pin` at the start of each second, then
   * waits up to `replyTimeoutMs` for the replies.
   */
  async run(rate: number, seconds: number, replyTimeoutMs: number, log: (line: string) => void = () => {}): Promise<PhaseResult> {
    const totalComments = Math.round(rate * seconds);
    const totalPins = Math.ceil(seconds);
    const replies: Promise<{ sentMs: number; reply: Reply }>[] = [];
    const issue = (body: Record<string, unknown>, sentMs: number): void => {
      replies.push(this.request(body, sentMs).then((reply) => ({ sentMs, reply })));
    };
    const t0 = nowMs();
    let comments = 0;
    let pins = 0;
    await new Promise<void>((done) => {
      const tick = (): void => {
        const now = nowMs();
        const elapsed = now - t0;
        const pinsDue = Math.min(totalPins, Math.floor(elapsed / 1000) + 1);
        while (pins < pinsDue) {
          issue({ t: 'pin', sku: PRODUCTS[pins % PRODUCTS.length]!.sku }, nowMs());
          pins++;
        }
        const commentsDue = Math.min(totalComments, Math.floor((elapsed / 1000) * rate) + 1);
        while (comments < commentsDue) {
          const sentMs = nowMs();
          issue({ t: 'comment', text: commentText(sentMs, comments) }, sentMs);
          comments++;
        }
        if (comments >= totalComments && elapsed >= (totalPins - 1) * 1000) {
          done();
          return;
        }
        // Sleep until the next comment or pin is due (timers fire late, never early: catch up above).
        const nextComment = comments < totalComments ? (comments / rate) * 1000 : Number.POSITIVE_INFINITY;
        const nextPin = pins < totalPins ? pins * 1000 : Number.POSITIVE_INFINITY;
        setTimeout(tick, Math.max(0, Math.min(nextComment, nextPin) - (nowMs() - t0)));
      };
      tick();
    });
    const sendEnd = nowMs();
    const lateBy = sendEnd - t0 - seconds * 1000;
    if (lateBy > 250) log(`sender finished ${lateBy.toFixed(0)} ms late: its core is saturated`);
    const settled = await Promise.race([
      Promise.all(replies),
      new Promise<null>((r) => setTimeout(() => r(null), replyTimeoutMs)),
    ]);
    const answered = settled ?? (await Promise.all(replies.map((p) => Promise.race([p, Promise.resolve(null)]))));
    const sentAt = new Map<number, number>();
    const errors: Record<string, number> = {};
    let unanswered = 0;
    let firstSeq = Number.POSITIVE_INFINITY;
    let lastSeq = 0;
    for (const a of answered) {
      if (a === null) {
        unanswered++;
        continue;
      }
      if (a.reply.t === 'ok') {
        const seq = a.reply.result?.seq;
        if (typeof seq === 'number') {
          sentAt.set(seq, a.sentMs);
          firstSeq = Math.min(firstSeq, seq);
          lastSeq = Math.max(lastSeq, seq);
        }
      } else {
        const key = `${a.reply.code ?? a.reply.t} ${a.reply.message ?? ''}`.trim();
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
    if (this.closedWith) errors[`streamer socket: ${this.closedWith}`] = 1;
    return {
      t0, sendEnd, comments, pins, okEvents: sentAt.size, errors, sentAt,
      firstSeq: Number.isFinite(firstSeq) ? firstSeq : 0, lastSeq, unanswered,
    };
  }

  close(): void {
    this.socket.destroy();
  }
}
