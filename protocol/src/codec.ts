import { Packr } from 'msgpackr';
import type { SequencedEvent, ServerMessage, UnsequencedEvent } from './messages.ts';

/**
 * Standard MessagePack only: no record extension, maps as plain maps, so any msgpack library can
 * speak to livecart. `variableMapSize` keeps small maps in the one-byte fixmap form, which the
 * sequenced-frame layout below relies on.
 */
const packr = new Packr({ useRecords: false, variableMapSize: true, mapsAsObjects: true, moreTypes: false });

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export function encode(message: object): Uint8Array {
  return packr.pack(message);
}

/** Decodes one frame. Throws `CodecError` for anything that is not a single MessagePack map. */
export function decode(bytes: Uint8Array): unknown {
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

export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  // The server is trusted: skip zod on the hot receive path of every viewer.
  return decode(bytes) as ServerMessage;
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
