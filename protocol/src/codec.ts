import { type Options, Packr } from 'msgpackr';
import type { SequencedEvent, ServerMessage, UnsequencedEvent } from './messages.ts';

/**
 * Standard MessagePack only: no record extension, maps as plain maps, so any msgpack library can
 * speak to livecart. `variableMapSize` keeps small maps in the one-byte fixmap form, which the
 * sequenced-frame layout below relies on. `int64AsType: 'auto'`: encoders in other languages write
 * epoch-ms and other integers as uint64/int64, which must arrive as numbers; only integers beyond
 * ±2^53 stay BigInt (and fail validation, since a number would lose precision).
 */
const packr = new Packr({
  useRecords: false, variableMapSize: true, mapsAsObjects: true, moreTypes: false,
  // msgpackr's README and unpack.js document 'auto'; its .d.ts lists only the other three.
  int64AsType: 'auto' as Options['int64AsType'],
});

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export function encode(message: object): Uint8Array {
  return packr.pack(message);
}

/**
 * Decodes one frame from a client. Throws `CodecError` for anything that is not a single standard
 * MessagePack map: extension types are refused, since msgpackr would decode its own (records,
 * Date, Set, Error, RegExp, typed arrays, undefined, cyclic references) into values no schema expects.
 */
export function decode(bytes: Uint8Array): unknown {
  refuseExtensions(bytes);
  return decodeMap(bytes);
}

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  // The server is trusted (it writes no extensions): skip the extension scan and zod on the hot receive path of every viewer.
  return decodeMap(bytes) as ServerMessage;
}

function decodeMap(bytes: Uint8Array): object {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new CodecError(`not valid MessagePack: ${(error as Error).message}`);
  }
  // msgpackr turns the reserved byte 0xc1 into a special object: accept plain maps only.
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    throw new CodecError('a frame must be a MessagePack map');
  }
  return value;
}

/**
 * Walks the frame's MessagePack structure and throws at the first extension (msgpackr's records
 * are one: 0x72) or reserved byte. Malformed or truncated input is left to the decoder to report.
 */
function refuseExtensions(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  // Values still to read; each takes at least one byte, so the walk ends within the frame.
  let pending = 1;
  try {
    while (pending > 0 && pos < bytes.length) {
      pending--;
      const b = bytes[pos++]!;
      if (b <= 0x7f || b >= 0xe0) continue; // positive and negative fixint
      if (b <= 0x8f) pending += 2 * (b & 0x0f); // fixmap
      else if (b <= 0x9f) pending += b & 0x0f; // fixarray
      else if (b <= 0xbf) pos += b & 0x1f; // fixstr
      else {
        switch (b) {
          case 0xc1: throw new CodecError('not valid MessagePack: reserved byte 0xc1');
          case 0xc4: case 0xd9: pos += 1 + view.getUint8(pos); break; // bin8, str8
          case 0xc5: case 0xda: pos += 2 + view.getUint16(pos); break; // bin16, str16
          case 0xc6: case 0xdb: pos += 4 + view.getUint32(pos); break; // bin32, str32
          case 0xdc: pending += view.getUint16(pos); pos += 2; break; // array16
          case 0xdd: pending += view.getUint32(pos); pos += 4; break; // array32
          case 0xde: pending += 2 * view.getUint16(pos); pos += 2; break; // map16
          case 0xdf: pending += 2 * view.getUint32(pos); pos += 4; break; // map32
          case 0xc7: throw extensionError(view.getInt8(pos + 1)); // ext8: length, type
          case 0xc8: throw extensionError(view.getInt8(pos + 2)); // ext16
          case 0xc9: throw extensionError(view.getInt8(pos + 4)); // ext32
          case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: throw extensionError(view.getInt8(pos)); // fixext: type
          case 0xcc: case 0xd0: pos += 1; break;
          case 0xcd: case 0xd1: pos += 2; break;
          case 0xca: case 0xce: case 0xd2: pos += 4; break;
          case 0xcb: case 0xcf: case 0xd3: pos += 8; break;
          default: break; // nil, false, true
        }
      }
    }
  } catch (error) {
    if (error instanceof RangeError) return; // truncated: the decoder reports it
    throw error;
  }
}

function extensionError(type: number): CodecError {
  const known = type === 0x72 ? ' (msgpackr record)' : type === -1 ? ' (timestamp)' : '';
  return new CodecError(`MessagePack extension type ${type}${known} is not accepted: send standard types only`);
}

/**
 * Sequenced room events are encoded once, before their `seq` is known, as
 *   fixmap(n+1) | "seq" | uint32 placeholder | the event's n other fields
 * so the broker can stamp the seq into bytes 6..9 (in JS or in a Redis Lua script) without
 * re-encoding. The result is a plain MessagePack map whose first key is `seq`.
 */
export const SEQ_OFFSET = 6;
const SEQ_PREFIX = [0xa3, 0x73, 0x65, 0x71, 0xce] as const; // "seq", uint32

export function encodeSequenced(event: UnsequencedEvent, seq = 0): Uint8Array {
  const body = packr.pack(event);
  const header = body[0]!;
  if ((header & 0xf0) !== 0x80 || (header & 0x0f) >= 15) {
    throw new CodecError('sequenced events must be maps of at most 14 fields');
  }
  const out = new Uint8Array(body.length + SEQ_PREFIX.length + 4);
  out[0] = header + 1;
  out.set(SEQ_PREFIX, 1);
  out.set(body.subarray(1), SEQ_OFFSET + 4);
  stampSeq(out, seq);
  return out;
}

/** Writes `seq` into a frame made by `encodeSequenced`, in place. */
export function stampSeq(frame: Uint8Array, seq: number): void {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(SEQ_OFFSET, seq);
}

export function readSeq(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(SEQ_OFFSET);
}

export type { SequencedEvent };
