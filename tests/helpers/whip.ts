import { syntheticCamera, syntheticMicrophone } from './webrtc.ts';

/**
 * A WHIP publisher as OBS is one (RFC 9725): a Node WebRTC peer (@roamhq/wrtc; helpers/webrtc.ts
 * installs its globals) that sends a camera and a microphone, POSTs its offer, applies the answer
 * and DELETEs its resource to stop. No trickle: an ICE-lite server's answer has every candidate.
 */
export interface WhipPublisher {
  readonly pc: RTCPeerConnection;
  /** The session's resource, absolute. */
  readonly resource: string;
  /** DELETE of the resource; the peer closes too. */
  stop(bearer?: string): Promise<number>;
  /** Stops the sources and closes the peer without telling the server. */
  dispose(): void;
}

export interface WhipOptions {
  /** Three rid layers (q, h, f; lowest first) instead of one stream. */
  simulcast?: boolean;
  audio?: boolean;
}

/** Builds the offer the publisher would send, without sending it (for tests of bad offers). */
export async function whipOffer(options: WhipOptions = {}): Promise<{ pc: RTCPeerConnection; sdp: string; dispose(): void }> {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const camera = syntheticCamera(options.simulcast ? 640 : 320, options.simulcast ? 360 : 240);
  const microphone = options.audio === false ? undefined : syntheticMicrophone();
  if (microphone !== undefined) pc.addTransceiver(microphone.track, { direction: 'sendonly' });
  pc.addTransceiver(camera.track, {
    direction: 'sendonly',
    ...(options.simulcast ? { sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }] } : {}),
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return {
    pc,
    sdp: pc.localDescription!.sdp,
    dispose: () => {
      camera.stop();
      microphone?.stop();
      pc.close();
    },
  };
}

/** POSTs the offer to `endpoint`; on 201 applies the answer, else throws with the status and body. */
export async function whipPublish(endpoint: string, bearer: string, options: WhipOptions = {}): Promise<WhipPublisher> {
  const { pc, sdp, dispose } = await whipOffer(options);
  const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` }, body: sdp });
  const text = await response.text();
  if (response.status !== 201) {
    dispose();
    throw Object.assign(new Error(`WHIP POST answered ${response.status}: ${text}`), { status: response.status, body: text });
  }
  if (response.headers.get('content-type') !== 'application/sdp') throw new Error(`answer has Content-Type ${response.headers.get('content-type')}`);
  const location = response.headers.get('location');
  if (location === null) throw new Error('no Location header');
  await pc.setRemoteDescription({ type: 'answer', sdp: text });
  const resource = new URL(location, endpoint).toString();
  return {
    pc,
    resource,
    stop: async (token = bearer) => {
      const deleted = await fetch(resource, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      await deleted.arrayBuffer();
      dispose();
      return deleted.status;
    },
    dispose,
  };
}
