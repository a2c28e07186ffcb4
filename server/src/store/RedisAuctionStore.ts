import { type Auction, type AuctionState, viewOf } from '../auctions/auction.ts';
import { type BidAnswer, type BidRecord, outcomeOf } from '../auctions/bidding.ts';
import type { RedisConnection } from '../redis/client.ts';
import { roomBase, roomKey } from '../redis/keys.ts';
import { redisCall } from '../redis/redisCall.ts';
import { DomainError } from '../DomainError.ts';
import { IDEMPOTENCY_MISMATCH_MESSAGE } from './idempotency.ts';
import type { AuctionCreate, AuctionSettle, AuctionStore, BidRequest, FollowUpClaim, FollowUpLease } from './AuctionStore.ts';
import { AUCTION_FIELDS, bidScript, claimFollowUpScript, createAuctionScript, markFollowUpScript, settleAuctionScript } from './auctionScripts.ts';

type AuctionCommands = {
  lcAuctionCreate(base: string, id: string, def: string, endsAt: number): Promise<AuctionCreate>;
  lcAuctionBid(base: string, ...args: Array<string | number>): Promise<string[]>;
  lcAuctionSettle(base: string, id: string, action: 'settle' | 'cancel', now: number, owner: string, until: number): Promise<Array<string | null>>;
  lcAuctionClaimFollowUp(base: string, id: string, owner: string, until: number, now: number): Promise<string[]>;
  lcAuctionMarkFollowUp(base: string, id: string, owner: string, step: 'announced' | 'done'): Promise<number>;
};

/** Auctions shared by every node through Redis: one Lua script per batch of bids and room (auctionScripts.ts). */
export class RedisAuctionStore implements AuctionStore {
  readonly #redis: RedisConnection & AuctionCommands;
  readonly #ns: string;
  readonly #historyKept: number;
  readonly #retryAfterMs: number;

  /** Shares the node's connection for room state. */
  constructor(redis: RedisConnection, options: { prefix: string; historyKept: number; retryAfterMs: number }) {
    redis.defineCommand('lcAuctionCreate', { numberOfKeys: 1, lua: createAuctionScript });
    redis.defineCommand('lcAuctionBid', { numberOfKeys: 1, lua: bidScript });
    redis.defineCommand('lcAuctionSettle', { numberOfKeys: 1, lua: settleAuctionScript });
    redis.defineCommand('lcAuctionClaimFollowUp', { numberOfKeys: 1, lua: claimFollowUpScript });
    redis.defineCommand('lcAuctionMarkFollowUp', { numberOfKeys: 1, lua: markFollowUpScript });
    this.#redis = redis as RedisConnection & AuctionCommands;
    this.#ns = options.prefix;
    this.#historyKept = options.historyKept;
    this.#retryAfterMs = options.retryAfterMs;
  }

  async createAuction(auction: Auction): Promise<AuctionCreate> {
    return this.#call(() => this.#redis.lcAuctionCreate(roomBase(this.#ns, auction.roomId), auction.id, JSON.stringify(auction), auction.endsAt));
  }

  async auction(roomId: string, auctionId: string): Promise<{ auction: Auction; state: AuctionState; leaderName?: string } | undefined> {
    const values = await this.#call(() => this.#redis.hmget(this.#key(roomId, auctionId), ...AUCTION_FIELDS, 'lname'));
    if (values[0] === null) return undefined;
    const parsed = parseAuction(values);
    const name = values[AUCTION_FIELDS.length];
    return name === null || name === undefined || name === '' || parsed.state.leaderId === null ? parsed : { ...parsed, leaderName: name };
  }

  async currentAuction(roomId: string): Promise<string | null> {
    return this.#call(() => this.#redis.get(roomKey(this.#ns, roomId, 'auction-current')));
  }

  async bid(requests: readonly BidRequest[]): Promise<Array<BidAnswer | DomainError>> {
    const out = new Array<BidAnswer | DomainError>(requests.length);
    const byRoom = new Map<string, number[]>();
    requests.forEach((r, i) => {
      const indexes = byRoom.get(r.roomId);
      if (indexes === undefined) byRoom.set(r.roomId, [i]);
      else indexes.push(i);
    });
    // One script per room: a script stays in its room's slot. A batch is almost always one room.
    await Promise.all([...byRoom].map(async ([roomId, indexes]) => {
      const args: Array<string | number> = [this.#historyKept];
      for (const i of indexes) {
        const r = requests[i]!;
        args.push(r.auctionId, r.userId, r.kind, r.amountCents, r.at, r.name ?? '', r.key ?? '');
      }
      const answers = await this.#call(() => this.#redis.lcAuctionBid(roomBase(this.#ns, roomId), ...args));
      indexes.forEach((index, j) => {
        const answer = JSON.parse(answers[j]!) as BidAnswer | { error: 'IDEMPOTENCY_MISMATCH' };
        out[index] = 'error' in answer ? new DomainError('IDEMPOTENCY_MISMATCH', IDEMPOTENCY_MISMATCH_MESSAGE) : answer;
      });
    }));
    return out;
  }

  async history(roomId: string, auctionId: string): Promise<BidRecord[]> {
    const records = await this.#call(() => this.#redis.lrange(`${this.#key(roomId, auctionId)}:hist`, 0, -1));
    return records.map((json) => JSON.parse(json) as BidRecord);
  }

  async settle(roomId: string, auctionId: string, now: number, lease?: FollowUpLease): Promise<AuctionSettle> {
    return this.#settle(roomId, auctionId, 'settle', now, lease);
  }

  async cancel(roomId: string, auctionId: string, lease?: FollowUpLease): Promise<AuctionSettle> {
    return this.#settle(roomId, auctionId, 'cancel', 0, lease);
  }

  async claimFollowUp(roomId: string, auctionId: string, lease: FollowUpLease, now: number): Promise<FollowUpClaim> {
    const [result, detail] = await this.#call(() => this.#redis.lcAuctionClaimFollowUp(roomBase(this.#ns, roomId), auctionId, lease.owner, lease.until, now));
    if (result === 'claimed') return { result, announced: detail === 'announced' };
    if (result === 'leased') return { result, until: Number(detail) };
    return { result: result === 'done' ? 'done' : 'none' };
  }

  async markFollowUp(roomId: string, auctionId: string, owner: string, step: 'announced' | 'done'): Promise<boolean> {
    return (await this.#call(() => this.#redis.lcAuctionMarkFollowUp(roomBase(this.#ns, roomId), auctionId, owner, step))) === 1;
  }

  async close(): Promise<void> {}

  async #settle(roomId: string, auctionId: string, action: 'settle' | 'cancel', now: number, lease: FollowUpLease | undefined): Promise<AuctionSettle> {
    const [result, ...values] = await this.#call(() => this.#redis.lcAuctionSettle(roomBase(this.#ns, roomId), auctionId, action, now, lease?.owner ?? '', lease?.until ?? 0));
    if (result === 'unknown') return { result: 'unknown' };
    const { auction, state } = parseAuction(values);
    const view = viewOf(auction, state);
    const outcome = outcomeOf(state);
    if (result === 'not_due' || outcome === undefined) return { result: 'not_due', view };
    return { result: result as 'ended' | 'cancelled' | 'settled', outcome, view };
  }

  #key(roomId: string, auctionId: string): string {
    return roomKey(this.#ns, roomId, `auction:${auctionId}`);
  }

  #call<T>(run: () => Promise<T>): Promise<T> {
    return redisCall(run, this.#retryAfterMs, 'auctions');
  }
}

/** An auction's hash fields (`AUCTION_FIELDS` order) as the auction and its state. */
function parseAuction(values: ReadonlyArray<string | null>): { auction: Auction; state: AuctionState } {
  const [def, status, price, leader, lmax, ends, bids, seq] = values;
  return {
    auction: JSON.parse(def!) as Auction,
    state: {
      status: status as AuctionState['status'], priceCents: Number(price), leaderId: leader === '' || leader == null ? null : leader,
      leaderMaxCents: Number(lmax), endsAt: Number(ends), bids: Number(bids), seq: Number(seq),
    },
  };
}
