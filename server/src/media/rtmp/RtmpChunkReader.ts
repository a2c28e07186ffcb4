/** One RTMP message, put together from its chunks. */
export interface RtmpMessage {
  readonly typeId: number;
  readonly streamId: number;
  /** Milliseconds, absolute (the chunk stream's deltas added up). */
  readonly timestamp: number;
  readonly payload: Buffer;
}

/** Set Chunk Size and Abort change how the rest of the stream is read: the reader applies them itself. */
const SET_CHUNK_SIZE = 1;
const ABORT = 2;

/** Chunk streams with a message in progress at once, at most (encoders use a handful). */
const MAX_OPEN_STREAMS = 64;

interface ChunkStream {
  timestamp: number;
  /** The last header's timestamp field: absolute after a type 0 header, a delta after types 1 and 2; type 3 reuses it. */
  tsField: number;
  extended: boolean;
  length: number;
  typeId: number;
  streamId: number;
  parts: Buffer[];
  received: number;
}

/**
 * Reads the RTMP chunk stream (after the handshake) into messages: basic and message headers of
 * the four types, extended timestamps, messages interleaved on several chunk streams, the peer's
 * Set Chunk Size and Abort. Bounds what a peer can make it hold: no message over `maxMessageBytes`,
 * no more than that in messages still arriving. Malformed input throws RangeError.
 */
export class RtmpChunkReader {
  #maxMessageBytes: number;
  readonly #maxChunkSize: number;
  readonly #streams = new Map<number, ChunkStream>();
  #chunkSize = 128;
  /** Bytes of a chunk not complete yet, kept apart until the chunk is (no copy per read of a big chunk). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes the incomplete chunk needs in all, once its header said (0 while unknown). */
  #needed = 0;
  #inProgressBytes = 0;

  /** `maxChunkSize`: the largest chunk size the peer may set (a chunk never holds more than its message). */
  constructor(maxMessageBytes: number, maxChunkSize = maxMessageBytes) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#maxChunkSize = maxChunkSize;
  }

  /** Changes the largest message accepted from now on. */
  set maxMessageBytes(bytes: number) {
    this.#maxMessageBytes = bytes;
  }

  /** Adds bytes from the socket; returns the messages they complete, in order. */
  push(data: Buffer): RtmpMessage[] {
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    if (this.#pendingBytes < this.#needed) return [];
    const bytes = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const out: RtmpMessage[] = [];
    let offset = 0;
    this.#needed = 0;
    for (;;) {
      const used = this.#chunk(bytes, offset, out);
      if (used <= 0) {
        this.#needed = -used;
        break;
      }
      offset += used;
    }
    this.#pending = offset === bytes.length ? [] : [Buffer.from(bytes.subarray(offset))];
    this.#pendingBytes = bytes.length - offset;
    return out;
  }

  /** Reads one chunk at `offset`; returns its size, or minus the size it needs (0 when not known yet) when the bytes so far do not hold all of it. */
  #chunk(bytes: Buffer, offset: number, out: RtmpMessage[]): number {
    let at = offset;
    if (bytes.length - at < 1) return 0;
    const first = bytes[at++]!;
    const fmt = first >> 6;
    let csid = first & 0x3f;
    if (csid === 0) {
      if (bytes.length - at < 1) return 0;
      csid = 64 + bytes[at++]!;
    } else if (csid === 1) {
      if (bytes.length - at < 2) return 0;
      csid = 64 + bytes[at]! + bytes[at + 1]! * 256;
      at += 2;
    }
    const headerSize = [11, 7, 3, 0][fmt]!;
    if (bytes.length - at < headerSize) return 0;
    let stream = this.#streams.get(csid);
    if (stream === undefined) {
      if (fmt !== 0) throw new RangeError(`chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.#streams.size >= MAX_OPEN_STREAMS) this.#forgetIdleStreams();
      if (this.#streams.size >= MAX_OPEN_STREAMS) throw new RangeError('too many chunk streams at once');
      stream = { timestamp: 0, tsField: 0, extended: false, length: 0, typeId: 0, streamId: 0, parts: [], received: 0 };
    }
    const startsMessage = stream.received === 0;
    let tsField = stream.tsField;
    let extended = stream.extended;
    let length = stream.length;
    let typeId = stream.typeId;
    let streamId = stream.streamId;
    if (fmt <= 2) {
      tsField = bytes.readUIntBE(at, 3);
      extended = tsField === 0xffffff;
    }
    if (fmt <= 1) {
      length = bytes.readUIntBE(at + 3, 3);
      typeId = bytes[at + 6]!;
    }
    if (fmt === 0) streamId = bytes.readUInt32LE(at + 7);
    at += headerSize;
    if (extended) {
      if (bytes.length - at < 4) return 0;
      // A type 3 chunk repeats its extended timestamp: the field is the stream's, whatever the chunk's type.
      if (fmt <= 2) tsField = bytes.readUInt32BE(at);
      at += 4;
    }
    if (!startsMessage && fmt !== 3) throw new RangeError(`a type ${fmt} header on chunk stream ${csid} in the middle of a message`);
    if (length > this.#maxMessageBytes) throw new RangeError(`a message of ${length} bytes (over the limit of ${this.#maxMessageBytes})`);
    const take = Math.min(this.#chunkSize, length - stream.received);
    if (bytes.length - at < take) return -(at + take - offset);

    // The whole chunk is here: commit its header to the chunk stream.
    this.#streams.set(csid, stream);
    if (startsMessage) stream.timestamp = fmt === 0 ? tsField : stream.timestamp + tsField;
    stream.tsField = tsField;
    stream.extended = extended;
    stream.length = length;
    stream.typeId = typeId;
    stream.streamId = streamId;
    stream.parts.push(bytes.subarray(at, at + take));
    stream.received += take;
    this.#inProgressBytes += take;
    if (this.#inProgressBytes > 2 * this.#maxMessageBytes) throw new RangeError('too many bytes in messages still arriving');
    at += take;
    if (stream.received === stream.length) {
      const payload = Buffer.concat(stream.parts);
      this.#inProgressBytes -= stream.received;
      stream.parts = [];
      stream.received = 0;
      this.#control(typeId, payload);
      out.push({ typeId, streamId, timestamp: stream.timestamp, payload });
    }
    return at - offset;
  }

  #control(typeId: number, payload: Buffer): void {
    if (typeId === SET_CHUNK_SIZE) {
      if (payload.length < 4) throw new RangeError('short Set Chunk Size');
      const size = payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > this.#maxChunkSize) throw new RangeError(`chunk size ${size} out of range`);
      this.#chunkSize = size;
    } else if (typeId === ABORT) {
      if (payload.length < 4) throw new RangeError('short Abort');
      const stream = this.#streams.get(payload.readUInt32BE(0));
      if (stream !== undefined) {
        this.#inProgressBytes -= stream.received;
        stream.parts = [];
        stream.received = 0;
      }
    }
  }

  /** Chunk streams with no message in progress hold only header state a type 0 header renews. */
  #forgetIdleStreams(): void {
    for (const [csid, stream] of this.#streams) if (stream.received === 0) this.#streams.delete(csid);
  }
}
