import * as sdpCommonUtils from 'mediasoup-client/handlers/sdp/commonUtils';
import * as remoteSdp from 'mediasoup-client/handlers/sdp/RemoteSdp';
import * as sdpUnifiedPlanUtils from 'mediasoup-client/handlers/sdp/unifiedPlanUtils';
import * as ortc from 'mediasoup-client/ortc';
import type { RtpCapabilities as ClientRtpCapabilities, RtpEncodingParameters, RtpParameters as ClientRtpParameters } from 'mediasoup-client/types';
import type { types } from 'mediasoup';
import * as sdpTransform from 'sdp-transform';
import { ProtocolError } from '../errors.ts';

/**
 * SDP for WHIP, through mediasoup-client's own SDP layer (the code its browser handlers use to turn
 * a local offer into producer RTP parameters and to write mediasoup's answer): a WHIP offer is what
 * mediasoup-client's send handler makes, with the roles of offerer and answerer the same. What is
 * ours: checking the offer is one a WHIP publisher may make, and the layers of an `a=rid` simulcast
 * offer (the browser handlers know them from their own encodings).
 */

/** One media section of the offer, as the producer to make for it and the answer to write. */
export interface OfferedTrack {
  readonly kind: 'audio' | 'video';
  readonly rtpParameters: types.RtpParameters;
  readonly answerRtpParameters: ClientRtpParameters;
  readonly offerMedia: sdpTransform.MediaDescription;
}

export interface WhipOffer {
  readonly tracks: readonly OfferedTrack[];
  /** The publisher's DTLS parameters, as mediasoup's `connect` takes them (its role, its fingerprint). */
  readonly remoteDtls: types.DtlsParameters;
  readonly extmapAllowMixed: boolean;
}

const bad = (message: string) => new ProtocolError('BAD_REQUEST', `SDP offer: ${message}`);

/** Reads a WHIP offer against the router's capabilities; BAD_REQUEST naming what is wrong. */
export function readWhipOffer(text: string, routerCapabilities: types.RtpCapabilities): WhipOffer {
  if (!/^v=0\r?\n/.test(text)) throw bad('the body is not an SDP offer (it must start with "v=0")');
  let sdp: sdpTransform.SessionDescription;
  try {
    sdp = sdpTransform.parse(text);
  } catch (error) {
    throw bad(`unreadable (${(error as Error).message})`);
  }
  const media = sdp.media ?? [];
  if (media.length === 0) throw bad('no media section (m=audio or m=video)');
  const bundle = (sdp.groups ?? []).find((g) => g.type === 'BUNDLE');
  const bundled = new Set(String(bundle?.mids ?? '').split(' ').filter(Boolean));
  const kinds = new Set<string>();
  for (const m of media) {
    if (m.type !== 'audio' && m.type !== 'video') throw bad(`m=${m.type} is not accepted: WHIP takes one audio and one video section`);
    if (kinds.has(m.type)) throw bad(`two m=${m.type} sections: a stream has one ${m.type} track`);
    kinds.add(m.type);
    if (!/^(UDP|TCP)\/TLS\/RTP\/SAVPF$/.test(m.protocol)) throw bad(`m=${m.type} uses ${m.protocol}, not UDP/TLS/RTP/SAVPF (WebRTC)`);
    if (m.direction !== undefined && m.direction !== 'sendonly' && m.direction !== 'sendrecv') throw bad(`m=${m.type} is ${m.direction}: a WHIP publisher sends`);
    if (m.mid === undefined || !bundled.has(String(m.mid))) throw bad(`m=${m.type} must have an a=mid in the offer's a=group:BUNDLE (one transport for the stream)`);
    if ((m.iceUfrag ?? sdp.iceUfrag) === undefined || (m.icePwd ?? sdp.icePwd) === undefined) throw bad(`m=${m.type} has no a=ice-ufrag / a=ice-pwd`);
  }

  let remoteDtls: types.DtlsParameters;
  let offered: ClientRtpCapabilities;
  try {
    const dtls = sdpCommonUtils.extractDtlsParameters({ sdpObject: sdp });
    // An offerer that leaves the choice (actpass) is the DTLS client: the answer says passive.
    remoteDtls = { role: dtls.role === 'server' ? 'server' : 'client', fingerprints: dtls.fingerprints as types.DtlsFingerprint[] };
    offered = sdpCommonUtils.extractRtpCapabilities({ sdpObject: sdp });
    ortc.validateAndNormalizeRtpCapabilities(offered);
  } catch (error) {
    throw bad((error as Error).message);
  }
  try {
    return { tracks: tracksOf(media, offered, routerCapabilities), remoteDtls, extmapAllowMixed: sdp.extmapAllowMixed !== undefined };
  } catch (error) {
    throw error instanceof ProtocolError ? error : bad((error as Error).message);
  }
}

/** Each media section as the producer to make: the first codec both sides have (the router's order), its header extensions, its encodings. */
function tracksOf(media: sdpTransform.MediaDescription[], offered: ClientRtpCapabilities, routerCapabilities: types.RtpCapabilities): OfferedTrack[] {
  const extended = ortc.getExtendedRtpCapabilities(offered, routerCapabilities as unknown as ClientRtpCapabilities, false);
  return media.map((m): OfferedTrack => {
    const kind = m.type as 'audio' | 'video';
    const sending = ortc.getSendingRtpParameters(kind, extended);
    if (sending.codecs.length === 0) {
      const accepted = (routerCapabilities.codecs ?? []).filter((c) => c.kind === kind && !/\/rtx$/i.test(c.mimeType)).map((c) => c.mimeType.split('/')[1]);
      throw bad(`no ${kind} codec of the offer can be received: the room takes ${accepted.join(', ')}${kind === 'video' ? ' (H264 with packetization-mode=1, constrained baseline)' : ''}`);
    }
    sending.codecs = ortc.reduceCodecs(sending.codecs);
    const answer = ortc.getSendingRemoteRtpParameters(kind, extended);
    answer.codecs = ortc.reduceCodecs(answer.codecs);
    sending.mid = String(m.mid);
    sending.rtcp = { cname: sdpCommonUtils.getCname({ offerMediaObject: m }), reducedSize: true, mux: true };
    sending.encodings = encodingsOf(m, sending);
    return { kind, rtpParameters: sending as unknown as types.RtpParameters, answerRtpParameters: answer, offerMedia: m };
  });
}

/**
 * The encodings the publisher sends: one per `a=rid` of its `a=simulcast` send list (the order of
 * that list, lowest layer first, as browsers send them), else the SSRCs of its `a=ssrc` lines.
 */
function encodingsOf(m: sdpTransform.MediaDescription, sending: ClientRtpParameters): RtpEncodingParameters[] {
  if (m.simulcast !== undefined) {
    const direction = m.simulcast.dir1 === 'send' ? m.simulcast.list1 : m.simulcast.dir2 === 'send' ? m.simulcast.list2 : undefined;
    if (direction === undefined) throw bad(`m=${m.type} has an a=simulcast line without a send list`);
    const sent = new Set((m.rids ?? []).filter((r) => r.direction === 'send').map((r) => String(r.id)));
    // Alternatives (a,b) and paused layers (~a) are not negotiated: each layer is its first rid.
    const rids = sdpTransform.parseSimulcastStreamList(direction).map((alternatives) => alternatives[0]!).filter((r) => !r.paused).map((r) => String(r.scid));
    if (rids.length === 0 || rids.some((rid) => !sent.has(rid))) throw bad(`m=${m.type}: every layer of a=simulcast needs an a=rid:<id> send line`);
    return rids.map((rid) => ({ rid }));
  }
  try {
    return sdpUnifiedPlanUtils.getRtpEncodings({ offerMediaObject: m, codecs: sending.codecs });
  } catch {
    throw bad(`m=${m.type} has neither a=ssrc lines nor a=simulcast with a=rid layers: the server cannot tell its RTP streams`);
  }
}

/** mediasoup's answer: ICE-lite with the transport's candidates (no trickle), DTLS server unless the publisher chose to be one. */
export function writeWhipAnswer(offer: WhipOffer, transport: types.WebRtcTransport): string {
  const sha256 = transport.dtlsParameters.fingerprints.filter((f) => f.algorithm === 'sha-256');
  const answer = new remoteSdp.RemoteSdp({
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates as never,
    // Only sha-256: some publishers' WebRTC stacks know no other fingerprint algorithm.
    dtlsParameters: { role: offer.remoteDtls.role === 'server' ? 'client' : 'server', fingerprints: sha256.length > 0 ? sha256 : transport.dtlsParameters.fingerprints },
  });
  if (offer.extmapAllowMixed) answer.setSessionExtmapAllowMixed();
  for (const track of offer.tracks) {
    answer.send({ offerMediaObject: track.offerMedia, offerRtpParameters: track.rtpParameters as unknown as ClientRtpParameters, answerRtpParameters: track.answerRtpParameters });
  }
  const written = sdpTransform.parse(answer.getSdp());
  written.origin = { ...written.origin!, username: 'livecart', sessionId: Date.now() };
  return sdpTransform.write(written);
}
