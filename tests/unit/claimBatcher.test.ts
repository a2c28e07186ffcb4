import { describe, expect, it } from 'vitest';
import type { CartAnswer } from '../../protocol/src/index.ts';
import { ClaimBatcher } from '../../server/src/admission/ClaimBatcher.ts';
import { DomainError } from '../../server/src/DomainError.ts';
import type { ClaimRequest } from '../../server/src/store/CouponStore.ts';

const request = (userId: string): ClaimRequest => ({ roomId: 'r', userId, couponId: 'C', key: `k-${userId}`, now: 1 });
const gone = { status: 'coupons_gone', coupon: { id: 'C', roomId: 'r', minSpendCents: 0, total: 1, percentOff: 5, createdAt: 0 } } as CartAnswer;

describe('ClaimBatcher', () => {
  it('sends the claims of one turn in one store call and answers each in its slot', async () => {
    const calls: ClaimRequest[][] = [];
    const batcher = new ClaimBatcher({
      claimCoupons: async (requests) => {
        calls.push([...requests]);
        return requests.map((r) => (r.userId === 'b' ? new DomainError('COUPON_NOT_FOUND', 'no coupon C') : gone));
      },
    });
    const answers = await Promise.allSettled([batcher.claim(request('a')), batcher.claim(request('b')), batcher.claim(request('c'))]);
    expect(calls.map((c) => c.map((r) => r.userId))).toEqual([['a', 'b', 'c']]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((answers[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'COUPON_NOT_FOUND' });
    // The next turn's claims are a new call.
    await batcher.claim(request('d'));
    expect(calls).toHaveLength(2);
  });

  it('rejects every claim of the call when the store fails', async () => {
    const batcher = new ClaimBatcher({ claimCoupons: async () => { throw new DomainError('UNAVAILABLE', 'down'); } });
    const answers = await Promise.allSettled([batcher.claim(request('a')), batcher.claim(request('b'))]);
    expect(answers.every((a) => a.status === 'rejected' && (a.reason as DomainError).code === 'UNAVAILABLE')).toBe(true);
  });
});
