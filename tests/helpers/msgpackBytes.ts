/**
 * A MessagePack encoder written from the spec, independent of msgpackr, for frames as other
 * languages' libraries write them: every integer can be given its encoding (`int(n, 'uint64')`),
 * and extensions can be written (`ext`). Plain numbers take the smallest integer encoding, as most
 * encoders do; non-integers are float64.
 */

export type IntFormat = 'fixint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float64';

export const intFormats: readonly IntFormat[] = ['fixint', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'float64'];

/** A value written as given bytes. */
export class Raw {
  constructor(readonly bytes: readonly number[]) {}
}

export type Value = string | number | boolean | null | Raw | readonly Value[] | { readonly [key: string]: Value };

const widths = { uint8: 1, uint16: 2, uint32: 4, uint64: 8, int8: 1, int16: 2, int32: 4, int64: 8 } as const;
const headers = { uint8: 0xcc, uint16: 0xcd, uint32: 0xce, uint64: 0xcf, int8: 0xd0, int16: 0xd1, int32: 0xd2, int64: 0xd3 } as const;

/** `n` in exactly the encoding `format` (big-endian, two's complement for the int formats). */
export function int(n: number | bigint, format: IntFormat): Raw {
  if (format === 'float64') {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, Number(n));
    return new Raw([0xcb, ...new Uint8Array(view.buffer)]);
  }
  if (format === 'fixint') {
    const value = Number(n);
    if (value >= 0 && value <= 0x7f) return new Raw([value]);
    if (value >= -32 && value < 0) return new Raw([value & 0xff]);
    throw new RangeError(`${n} is no fixint`);
  }
  const width = widths[format];
  let value = BigInt(n);
  if (value < 0n) value += 1n << BigInt(8 * width);
  const bytes: number[] = [];
  for (let i = width - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return new Raw([headers[format], ...bytes]);
}

/** An extension value: fixext for 1, 2, 4, 8 or 16 data bytes, ext8 otherwise. */
export function ext(type: number, data: readonly number[]): Raw {
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const header = fixed[data.length];
  return new Raw(header === undefined ? [0xc7, data.length, type & 0xff, ...data] : [header, type & 0xff, ...data]);
}

export function pack(value: Value): Uint8Array {
  const out: number[] = [];
  write(value, out);
  return new Uint8Array(out);
}

function write(value: Value, out: number[]): void {
  if (value instanceof Raw) out.push(...value.bytes);
  else if (value === null) out.push(0xc0);
  else if (value === false) out.push(0xc2);
  else if (value === true) out.push(0xc3);
  else if (typeof value === 'number') out.push(...smallest(value).bytes);
  else if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    if (bytes.length < 32) out.push(0xa0 | bytes.length);
    else if (bytes.length < 0x100) out.push(0xd9, bytes.length);
    else if (bytes.length < 0x10000) out.push(0xda, bytes.length >> 8, bytes.length & 0xff);
    else throw new RangeError('string too long for this helper');
    out.push(...bytes);
  } else if (Array.isArray(value)) {
    if (value.length >= 16) throw new RangeError('array too long for this helper');
    out.push(0x90 | value.length);
    for (const item of value as readonly Value[]) write(item, out);
  } else {
    const entries = Object.entries(value);
    if (entries.length < 16) out.push(0x80 | entries.length);
    else out.push(0xde, entries.length >> 8, entries.length & 0xff);
    for (const [key, item] of entries) {
      write(key, out);
      write(item, out);
    }
  }
}

function smallest(n: number): Raw {
  if (!Number.isInteger(n)) return int(n, 'float64');
  if (n >= -32 && n <= 0x7f) return int(n, 'fixint');
  if (n >= 0) return int(n, n < 0x100 ? 'uint8' : n < 0x10000 ? 'uint16' : n < 0x100000000 ? 'uint32' : 'uint64');
  return int(n, n >= -0x80 ? 'int8' : n >= -0x8000 ? 'int16' : n >= -0x80000000 ? 'int32' : 'int64');
}
