import { describe, expect, it } from 'vitest';
import { decodeAmf0, encodeAmf0 } from '../../server/src/media/rtmp/amf0.ts';
import { RtmpChunkReader } from '../../server/src/media/rtmp/RtmpChunkReader.ts';

/** A chunk's basic header and message header of type `fmt` (timestamps under 0xffffff unless `extended`). */
function chunk(fmt: number, csid: number, fields: { ts?: number; length?: number; typeId?: number; streamId?: number }, body: Buffer, extended?: number): Buffer {
  const header = [Buffer.from([(fmt << 6) | csid])];
  const field = (n: number) => { const b = Buffer.alloc(3); b.writeUIntBE(n, 0, 3); return b; };
  const ts = extended === undefined ? fields.ts ?? 0 : 0xffffff;
  if (fmt <= 2) header.push(field(ts));
  if (fmt <= 1) header.push(field(fields.length!), Buffer.from([fields.typeId!]));
  if (fmt === 0) { const id = Buffer.alloc(4); id.writeUInt32LE(fields.streamId ?? 0); header.push(id); }
  if (extended !== undefined) { const e = Buffer.alloc(4); e.writeUInt32BE(extended); header.push(e); }
  return Buffer.concat([...header, body]);
}

describe('AMF0', () => {
  it('round-trips what commands and metadata carry', () => {
    const values = ['connect', 1, { app: 'room-1', tcUrl: 'rtmp://h/room-1', nested: { ok: true, list: [1, 'two', null] } }, null, undefined, false];
    const decoded = decodeAmf0(encodeAmf0(...values));
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(JSON.parse(JSON.stringify(values)));
    expect(Object.getPrototypeOf(decoded[2])).toBeNull(); // a "__proto__" key from a peer reaches no prototype
  });

  it('reads ECMA arrays (onMetaData) and refuses malformed or too deep input', () => {
    const ecma = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 1, 0, 5]), Buffer.from('width'), encodeAmf0(640), Buffer.from([0, 0, 9])]);
    expect({ ...(decodeAmf0(ecma)[0] as object) }).toEqual({ width: 640 });
    expect(() => decodeAmf0(Buffer.from([0x02, 0, 10, 65]))).toThrow(RangeError); // string past the end
    expect(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]))).toThrow(RangeError); // an array longer than its message
    expect(() => decodeAmf0(Buffer.from([0x11]))).toThrow(RangeError); // unknown type
    expect(() => decodeAmf0(Buffer.concat([Buffer.alloc(40, 0x03)]))).toThrow(RangeError); // 40 nested objects
  });
});

describe('RTMP chunk reader', () => {
  it('puts messages together across chunks, chunk streams and reads, with type 1-3 headers adding timestamps', () => {
    const reader = new RtmpChunkReader(1 << 20);
    const big = Buffer.alloc(300, 7);
    const bytes = Buffer.concat([
      chunk(0, 4, { ts: 1000, length: 300, typeId: 9, streamId: 1 }, big.subarray(0, 128)),
      chunk(0, 5, { ts: 990, length: 2, typeId: 8, streamId: 1 }, Buffer.from([1, 2])), // another chunk stream in between
      chunk(3, 4, {}, big.subarray(128, 256)),
      chunk(3, 4, {}, big.subarray(256)),
      chunk(1, 4, { ts: 33, length: 1, typeId: 9 }, Buffer.from([9])), // +33
      chunk(2, 4, { ts: 34 }, Buffer.from([8])), // +34
      chunk(3, 4, {}, Buffer.from([7])), // +34 again
    ]);
    const messages = [...reader.push(bytes.subarray(0, 100)), ...reader.push(bytes.subarray(100, 101)), ...reader.push(bytes.subarray(101))];
    expect(messages.map((m) => [m.typeId, m.timestamp, m.payload.length])).toEqual([[8, 990, 2], [9, 1000, 300], [9, 1033, 1], [9, 1067, 1], [9, 1101, 1]]);
    expect(messages[1]!.payload.equals(big)).toBe(true);
  });

  it('takes the peer\'s chunk size and extended timestamps', () => {
    const reader = new RtmpChunkReader(1 << 20);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(4096);
    const body = Buffer.alloc(3000, 1);
    const messages = reader.push(Buffer.concat([
      chunk(0, 2, { length: 4, typeId: 1 }, size),
      chunk(0, 6, { length: 3000, typeId: 9, streamId: 1 }, body, 0x01020304),
    ]));
    expect(messages.map((m) => [m.typeId, m.timestamp, m.payload.length])).toEqual([[1, 0, 4], [9, 0x01020304, 3000]]);
  });

  it('holds a big chunk\'s pieces until it is complete, and takes a higher limit from when it is raised', () => {
    const reader = new RtmpChunkReader(1000, 1 << 20);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(1 << 16);
    expect(reader.push(chunk(0, 2, { length: 4, typeId: 1 }, size))).toHaveLength(1);
    const frame = chunk(0, 6, { length: 50_000, typeId: 9, streamId: 1 }, Buffer.alloc(50_000, 3));
    expect(() => new RtmpChunkReader(1000, 1 << 20).push(Buffer.concat([chunk(0, 2, { length: 4, typeId: 1 }, size), frame]))).toThrow(/over the limit/);
    reader.maxMessageBytes = 1 << 20; // the publish was accepted
    const messages = [];
    for (let at = 0; at < frame.length; at += 1000) messages.push(...reader.push(frame.subarray(at, at + 1000)));
    expect(messages.map((m) => m.payload.length)).toEqual([50_000]);
  });

  it('refuses a message over the limit, a chunk size over it, and a stream that starts without a full header', () => {
    expect(() => new RtmpChunkReader(1000).push(chunk(0, 4, { length: 1001, typeId: 9 }, Buffer.alloc(0)))).toThrow(/over the limit/);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(5000);
    expect(() => new RtmpChunkReader(1000).push(chunk(0, 2, { length: 4, typeId: 1 }, size))).toThrow(/chunk size/);
    expect(() => new RtmpChunkReader(1000).push(chunk(3, 4, {}, Buffer.alloc(1)))).toThrow(/starts with a type 3/);
  });
});
