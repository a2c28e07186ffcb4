import { describe, expect, it } from 'vitest';
import { decode, encode, encodeSequenced, readSeq, stampSeq } from '../../protocol/src/index.ts';
import { backpressureAction } from '../../server/src/fanout/Fanout.ts';
import { ResumeRing } from '../../server/src/rooms/ResumeRing.ts';
import { TokenBucketLimiter } from '../../server/src/rooms/TokenBucketLimiter.ts';

describe('codec', () => {
  it('encodes standard MessagePack that a stamped seq turns into a plain map field', () => {
    const frame = encodeSequenced({ t: 'comment', userId: 'u1', name: 'Ann', text: 'hi', ts: 5 });
    stampSeq(frame, 123_456);
    expect(readSeq(frame)).toBe(123_456);
    expect(decode(frame)).toEqual({ seq: 123_456, t: 'comment', userId: 'u1', name: 'Ann', text: 'hi', ts: 5 });
    // no msgpackr record extension (0xd4/0xc7 ext types) in plain frames
    expect([...encode({ t: 'likes', total: 3 })].includes(0xd4)).toBe(false);
  });

  it('rejects frames that are not a single map', () => {
    expect(() => decode(new Uint8Array([0xc1]))).toThrow(/MessagePack/);
    expect(() => decode(encode([1, 2]) as Uint8Array)).toThrow(/map/);
    expect(() => decode(new Uint8Array([0x81, 0xa1, 0x74]))).toThrow();
  });
});

describe('ResumeRing', () => {
  it('returns frames after a seq, or undefined when some are gone', () => {
    const ring = new ResumeRing(4);
    for (let seq = 1; seq <= 6; seq++) ring.push(seq, new Uint8Array([seq]));
    expect(ring.oldestSeq).toBe(3);
    expect(ring.since(4, 6)!.map((f) => f[0])).toEqual([5, 6]);
    expect(ring.since(2, 6)!.map((f) => f[0])).toEqual([3, 4, 5, 6]);
    expect(ring.since(1, 6)).toBeUndefined();
    expect(ring.since(6, 6)).toEqual([]);
    expect(ring.since(7, 6)).toBeUndefined();
    expect(new ResumeRing(4).since(0, 3)).toBeUndefined();
  });
});

describe('TokenBucketLimiter', () => {
  it('allows the burst, then one per refill interval, and says how long to wait', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(2, 3, 100, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(500);
    now += 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0); // users are independent
  });

  it('stays bounded, evicting idle buckets first', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(1, 1, 10, () => now);
    for (let i = 0; i < 10; i++) limiter.take(`u${i}`);
    now += 5000;
    limiter.take('fresh');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 100; i++) limiter.take(`busy${i}`);
    expect(limiter.size).toBeLessThanOrEqual(10);
  });
});

describe('backpressure policy', () => {
  const limits = { softBufferBytes: 100, hardBufferBytes: 1000 };
  it('demotes above soft, promotes below half of soft, closes above hard', () => {
    expect(backpressureAction(50, true, limits)).toBe('keep');
    expect(backpressureAction(150, true, limits)).toBe('demote');
    expect(backpressureAction(80, false, limits)).toBe('keep');
    expect(backpressureAction(40, false, limits)).toBe('promote');
    expect(backpressureAction(1500, false, limits)).toBe('close');
  });
});
