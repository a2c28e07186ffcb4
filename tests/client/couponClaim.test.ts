/**
 * The SDK's `claimCoupon` against the real server: a claim whose reply is lost to a dropped socket
 * is retried with the same idempotency key and answered with the first answer (the buyer who took
 * the last coupon hears `coupon_claimed` again, not "all claimed"); a new call is a new action.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../protocol/src/codec.ts';
import { connect, type LivecartClient, type WebSocketConstructor } from '../../client/src/index.ts';
import type { RunningServer } from '../../server/src/server.ts';
import { http } from '../helpers/server.ts';
import { useRealServer } from './support/realServer.ts';

const fixture = useRealServer({});
let server: RunningServer;
beforeAll(() => {
  server = fixture.server;
});

type Frame = Record<string, unknown> & { t: string; id?: number; key?: string };
interface LossPlan {
  readonly type: string;
  readonly sent: Frame[];
  onLost?: () => void;
  lost?: Frame;
}

/** A real `ws` socket that loses the reply to the first request of `plan.type`, after the server handled it. */
function lossyWebSocket(plan: LossPlan): WebSocketConstructor {
  let targetId: number | undefined;
  return class LossyWebSocket extends NodeWebSocket {
    override send(data: Uint8Array): void {
      const frame = decode(data) as Frame;
      plan.sent.push(frame);
      if (frame.t === plan.type && targetId === undefined) targetId = frame.id;
      super.send(data);
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message' && plan.lost === undefined && targetId !== undefined) {
        const data = args[0] as ArrayBuffer | Buffer;
        const frame = decode(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as Frame;
        if (frame.id === targetId && (frame.t === 'ok' || frame.t === 'err')) {
          plan.lost = frame;
          plan.onLost?.();
          return true;
        }
      }
      return super.emit(event, ...args);
    }
  };
}

describe('LivecartClient.claimCoupon against the real server', () => {
  it('retries a claim whose reply was lost with the same key and gets the first answer', async () => {
    const room = `claim-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
    const streamer = await server.mintToken({ userId: `s-${room}`, name: 'S', role: 'streamer' });
    expect((await http(server, 'POST', '/api/rooms', streamer, { title: room, id: room })).status).toBe(201);
    expect((await http(server, 'POST', `/api/rooms/${room}/coupons`, streamer, { id: 'LAST', amountOffCents: 100, total: 1 })).status).toBe(201);

    const plan: LossPlan = { type: 'claimCoupon', sent: [] };
    const token = await server.mintToken({ userId: 'ann', name: 'Ann', role: 'viewer' });
    const ann: LivecartClient = connect({ url: server.wsUrl, token, room, WebSocket: lossyWebSocket(plan), reconnect: { baseMs: 20, maxMs: 50 }, retry: { baseMs: 20, maxMs: 100 } });
    fixture.clients.push(ann);
    await ann.ready;
    plan.onLost = () => ann.dropConnectionForTest();

    const answer = await ann.claimCoupon('LAST');
    expect(plan.lost).toMatchObject({ t: 'ok', result: { status: 'coupon_claimed', left: 0 } });
    expect(answer).toEqual(plan.lost!.result);
    const attempts = plan.sent.filter((f) => f.t === 'claimCoupon');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.key).toBe(attempts[0]!.key);
    expect(await server.store.coupon(room, 'LAST')).toMatchObject({ left: 0 });

    // A new action is a new key: the buyer holds the coupon already.
    const again = await ann.claimCoupon('LAST');
    expect(again).toMatchObject({ status: 'coupon_already_claimed', claim: { couponId: 'LAST', userId: 'ann' } });
    await expect(ann.claimCoupon('NOPE')).rejects.toMatchObject({ name: 'COUPON_NOT_FOUND' });
  });
});
