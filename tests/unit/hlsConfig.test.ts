import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, makeConfig } from '../../server/src/config.ts';

describe('HLS options', () => {
  it('defaults to a folder under the OS temp folder, with short segments', () => {
    expect(makeConfig({})).toMatchObject({ hls: true, hlsDir: join(tmpdir(), 'livecart-hls'), hlsSegmentSeconds: 1, hlsListSize: 6 });
  });

  it('takes an absolute folder from the flag or the environment', () => {
    expect(loadConfig(['--hls-dir', '/var/cache/livecart-hls'], {}).config.hlsDir).toBe('/var/cache/livecart-hls');
    expect(loadConfig([], { LIVECART_HLS_DIR: '/srv/hls' }).config.hlsDir).toBe('/srv/hls');
    expect(loadConfig(['--hls', 'false'], {}).config.hls).toBe(false);
  });

  it('refuses a relative folder, the root folder and out-of-range segment settings, saying which option', () => {
    expect(() => makeConfig({ hlsDir: 'hls' })).toThrow(/hlsDir: an absolute path/);
    expect(() => makeConfig({ hlsDir: '/' })).toThrow(/hlsDir: not the root folder/);
    expect(() => makeConfig({ hlsDir: '/tmp/../' })).toThrow(ConfigError);
    expect(() => makeConfig({ hlsSegmentSeconds: 0 })).toThrow(/hlsSegmentSeconds/);
    expect(() => makeConfig({ hlsListSize: 2 })).toThrow(/hlsListSize/);
  });
});
