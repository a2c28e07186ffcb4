import { describe, expect, it } from 'vitest';
import { NodeSignature } from '../../server/src/auth/NodeSignature.ts';
import { makeConfig } from '../../server/src/config.ts';
import { ProtocolError } from '../../server/src/errors.ts';

const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    return error instanceof ProtocolError ? error.code : String(error);
  }
  return 'accepted';
};

describe('node-to-node signatures', () => {
  const secret = 'deployment-secret-0123456789';
  it('accepts a call signed with the same secret, refuses one changed, signed otherwise or too old', () => {
    let now = 1_000_000;
    const signer = new NodeSignature(secret, () => now);
    const verifier = new NodeSignature(secret, () => now + 5_000);
    const body = JSON.stringify({ roomId: 'r1', pipeId: 'p1' });
    const header = signer.sign('POST', '/internal/media/pipes/keepalive', body);
    expect(refusal(() => verifier.verify(header, 'POST', '/internal/media/pipes/keepalive', body))).toBe('accepted');
    expect(refusal(() => verifier.verify(header, 'POST', '/internal/media/pipes/keepalive', body.replace('p1', 'p2')))).toBe('UNAUTHORIZED');
    expect(refusal(() => verifier.verify(header, 'POST', '/internal/media/pipes/close', body))).toBe('UNAUTHORIZED');
    expect(refusal(() => new NodeSignature('another-secret-0123456789', () => now).verify(header, 'POST', '/internal/media/pipes/keepalive', body))).toBe('UNAUTHORIZED');
    expect(refusal(() => verifier.verify('Bearer abc', 'POST', '/internal/media/pipes/keepalive', body))).toBe('UNAUTHORIZED');
    now += 60_000;
    expect(refusal(() => new NodeSignature(secret, () => now).verify(header, 'POST', '/internal/media/pipes/keepalive', body))).toBe('UNAUTHORIZED');
  });
});

describe('pipe addresses in the configuration', () => {
  const invalid = (input: Parameters<typeof makeConfig>[0]) => {
    try {
      makeConfig(input);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  it('takes IP addresses only, and wants an announced one when the pipes listen on every interface', () => {
    expect(makeConfig({}).mediaPipeListenIp).toBeUndefined();
    expect(makeConfig({ mediaPipeListenIp: '10.0.0.5' }).mediaPipeListenIp).toBe('10.0.0.5');
    expect(invalid({ mediaPipeListenIp: 'media.internal' })).toContain('mediaPipeListenIp');
    expect(invalid({ mediaPipeAnnouncedIp: 'not an ip' })).toContain('mediaPipeAnnouncedIp');
    expect(invalid({ mediaPipeListenIp: '0.0.0.0' })).toContain('mediaPipeAnnouncedIp');
    expect(invalid({ mediaListenIp: '0.0.0.0' })).toContain('mediaPipeAnnouncedIp'); // the pipes default to the WebRTC listen IP
    expect(makeConfig({ mediaListenIp: '0.0.0.0', mediaPipeListenIp: '10.0.0.5' }).mediaPipeListenIp).toBe('10.0.0.5');
    expect(makeConfig({ mediaPipeListenIp: '::', mediaPipeAnnouncedIp: 'fd00::5' }).mediaPipeAnnouncedIp).toBe('fd00::5');
    expect(invalid({ mediaPipesPerRoom: 0 })).toContain('mediaPipesPerRoom');
  });
});
