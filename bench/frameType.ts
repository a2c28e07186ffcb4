/** Reads a server frame's `t` from its msgpack bytes without decoding it (load generators sniff every frame). */

const decoder = new TextDecoder();

/** The frame's `t`, read from the bytes: msgpackr writes `t` first, or right after the 4-byte `seq`. */
export function frameType(buf: Buffer, start: number): string {
  const first = buf[start]!;
  const header = (first & 0xf0) === 0x80 ? 1 : first === 0xde ? 3 : first === 0xdf ? 5 : 0; // fixmap, map16, map32
  if (header === 0) return '';
  const keyAt = start + header;
  const at = buf[keyAt] === 0xa3 && buf[keyAt + 1] === 0x73 ? keyAt + 9 : keyAt; // skip "seq" + uint32
  if (buf[at] !== 0xa1 || buf[at + 1] !== 0x74) return '';
  const str = buf[at + 2]!;
  if ((str & 0xe0) !== 0xa0) return '';
  return decoder.decode(buf.subarray(at + 3, at + 3 + (str & 0x1f)));
}
