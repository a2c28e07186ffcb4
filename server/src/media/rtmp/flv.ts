/**
 * FLV, what the RTMP relay feeds ffmpeg: an RTMP audio, video or data message's payload is an FLV
 * tag's body as it is, so a published stream becomes a file by framing each message as a tag.
 */
export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;

/** The file header (and the zero size of the tag before the first), saying which tracks follow. */
export function flvHeader(tracks: { audio: boolean; video: boolean }): Buffer {
  const header = Buffer.alloc(13);
  header.write('FLV', 0, 'latin1');
  header.writeUInt8(1, 3);
  header.writeUInt8((tracks.audio ? 0x04 : 0) | (tracks.video ? 0x01 : 0), 4);
  header.writeUInt32BE(9, 5);
  return header; // bytes 9..12: PreviousTagSize0 = 0
}

/** One tag: its header, the body, and the size of the whole tag after it. */
export function flvTag(type: number, timestampMs: number, body: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head.writeUInt8(type, 0);
  head.writeUIntBE(body.length, 1, 3);
  const ts = timestampMs >>> 0;
  head.writeUIntBE(ts & 0xffffff, 4, 3);
  head.writeUInt8(ts >>> 24, 7); // the timestamp's upper byte comes after its lower three
  // bytes 8..10: stream id, always 0
  const size = Buffer.alloc(4);
  size.writeUInt32BE(11 + body.length);
  return Buffer.concat([head, body, size]);
}
