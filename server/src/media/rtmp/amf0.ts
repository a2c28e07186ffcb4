/**
 * AMF0, the encoding of RTMP's commands and metadata: the values an encoder sends (numbers,
 * booleans, strings, objects, arrays, null) and what the server answers with. Malformed input
 * throws RangeError; objects are null-prototype records, so no key an encoder sends reaches a
 * prototype.
 */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];
export interface Amf0Object { [key: string]: Amf0Value }

const NUMBER = 0x00, BOOLEAN = 0x01, STRING = 0x02, OBJECT = 0x03, NULL = 0x05, UNDEFINED = 0x06, ECMA_ARRAY = 0x08, OBJECT_END = 0x09, STRICT_ARRAY = 0x0a, DATE = 0x0b, LONG_STRING = 0x0c;

/** Nesting an encoder's metadata needs at most; deeper input is refused rather than recursed into. */
const MAX_DEPTH = 16;

/** Every value of `bytes`, in order. */
export function decodeAmf0(bytes: Buffer): Amf0Value[] {
  const reader = new Reader(bytes);
  const values: Amf0Value[] = [];
  while (reader.offset < bytes.length) values.push(reader.value(0));
  return values;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  #need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new RangeError('AMF0 value runs past the end of the message');
  }

  #u8(): number {
    this.#need(1);
    return this.bytes.readUInt8(this.offset++);
  }

  #u16(): number {
    this.#need(2);
    const v = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  #u32(): number {
    this.#need(4);
    const v = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  #double(): number {
    this.#need(8);
    const v = this.bytes.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  #utf8(length: number): string {
    this.#need(length);
    const s = this.bytes.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }

  /** Properties up to the object-end marker (an empty key followed by 0x09). */
  #properties(depth: number): Amf0Object {
    const out: Amf0Object = Object.create(null) as Amf0Object;
    for (;;) {
      const key = this.#utf8(this.#u16());
      if (key === '') {
        if (this.#u8() !== OBJECT_END) throw new RangeError('AMF0 object without its end marker');
        return out;
      }
      out[key] = this.value(depth + 1);
    }
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_DEPTH) throw new RangeError('AMF0 values nested too deep');
    const marker = this.#u8();
    switch (marker) {
      case NUMBER: return this.#double();
      case BOOLEAN: return this.#u8() !== 0;
      case STRING: return this.#utf8(this.#u16());
      case LONG_STRING: return this.#utf8(this.#u32());
      case OBJECT: return this.#properties(depth);
      case ECMA_ARRAY:
        this.#u32(); // a count hint only: the properties end with the end marker
        return this.#properties(depth);
      case STRICT_ARRAY: {
        const count = this.#u32();
        // Each value is at least one byte: a count past what is left is malformed, not a reason to allocate.
        if (count > this.bytes.length - this.offset) throw new RangeError('AMF0 array longer than its message');
        const out: Amf0Value[] = [];
        for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
        return out;
      }
      case DATE: {
        const ms = this.#double();
        this.#u16(); // time zone, unused
        return new Date(ms);
      }
      case NULL: return null;
      case UNDEFINED: return undefined;
      default: throw new RangeError(`AMF0 type 0x${marker.toString(16)} is not supported`);
    }
  }
}

/** The values, one after the other (what a command message carries). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const value of values) write(parts, value);
  return Buffer.concat(parts);
}

function string(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(bytes.length);
  return Buffer.concat([head, bytes]);
}

function write(parts: Buffer[], value: Amf0Value): void {
  if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b.writeUInt8(NUMBER);
    b.writeDoubleBE(value, 1);
    parts.push(b);
  } else if (typeof value === 'boolean') {
    parts.push(Buffer.from([BOOLEAN, value ? 1 : 0]));
  } else if (typeof value === 'string') {
    parts.push(Buffer.from([STRING]), string(value));
  } else if (value === null) {
    parts.push(Buffer.from([NULL]));
  } else if (value === undefined) {
    parts.push(Buffer.from([UNDEFINED]));
  } else if (value instanceof Date) {
    const b = Buffer.alloc(11);
    b.writeUInt8(DATE);
    b.writeDoubleBE(value.getTime(), 1);
    parts.push(b);
  } else if (Array.isArray(value)) {
    const head = Buffer.alloc(5);
    head.writeUInt8(STRICT_ARRAY);
    head.writeUInt32BE(value.length, 1);
    parts.push(head);
    for (const item of value) write(parts, item);
  } else {
    parts.push(Buffer.from([OBJECT]));
    for (const [key, item] of Object.entries(value)) {
      parts.push(string(key));
      write(parts, item);
    }
    parts.push(Buffer.from([0, 0, OBJECT_END]));
  }
}
