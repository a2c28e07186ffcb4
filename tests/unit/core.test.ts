import { describe, expect, it } from 'vitest';
import { decode, encode, encodeSequenced, readSeq, stampSeq } from '../../protocol/src/index.ts';
import { backpressureAction } from '../../server/src/fanout/Fanout.ts';
import { ext, int, intFormats, pack } from '../helpers/msgpackBytes.ts';
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

  it('decodes every integer encoding of a safe integer to a number', () => {
    for (const format of intFormats) expect(decode(pack({ n: int(100, format) }))).toEqual({ n: 100 });
    expect(decode(pack({ n: int(Number.MAX_SAFE_INTEGER, 'uint64'), m: int(-Number.MAX_SAFE_INTEGER, 'int64') }))).toEqual({ n: Number.MAX_SAFE_INTEGER, m: -Number.MAX_SAFE_INTEGER });
    // Beyond it a number would lose precision: left a BigInt for validation to refuse.
    expect(decode(pack({ n: int(2n ** 64n - 1n, 'uint64') }))).toEqual({ n: 2n ** 64n - 1n });
  });

  it('refuses extensions anywhere in a frame, and only extensions', () => {
    expect(() => decode(pack({ a: [1, { b: ext(-1, [0, 0, 0, 1]) }] }))).toThrow(/extension type -1 \(timestamp\)/);
    expect(() => decode(pack({ a: ext(0x72, [0x40]) }))).toThrow(/extension type 114 \(msgpackr record\)/);
    expect(() => decode(new Uint8Array([0x81, 0xa1, 0x61, 0xc8, 0x00, 0x01, 0x05, 0x00]))).toThrow(/extension type 5/); // ext16
    expect(() => decode(new Uint8Array([0x81, 0xa1, 0x61, 0xc9, 0, 0, 0, 1, 0xfe, 0x00]))).toThrow(/extension type -2/); // ext32
    // Extension-looking bytes inside strings, binaries and wide containers are data.
    const lookalike = new Uint8Array([0xd4, 0x72, 0xc7, 0xc1]);
    const frame = new Uint8Array([
      0x83,
      0xa1, 0x62, 0xc4, 0x04, ...lookalike, // bin8
      0xa1, 0x73, 0xd9, 0x03, 0x61, 0xc3, 0x94, // str8 "aÔ"
      0xa1, 0x6c, 0xdc, 0x00, 0x02, 0xcf, 0xd4, 0, 0, 0, 0, 0, 0, 0x72, 0xde, 0x00, 0x00, // array16 [uint64, map16 {}]
    ]);
    expect(decode(frame)).toEqual({ b: Uint8Array.from(lookalike), s: 'aÔ', l: [0xd4n << 56n | 0x72n, {}] });
    // Truncated input is the decoder's to report.
    expect(() => decode(new Uint8Array([0x81, 0xa1, 0x61, 0xda, 0xff]))).toThrow(/not valid MessagePack/);
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
