import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of the server, lowest first (the same list as in docs/layers.md). A file may import
 * from its own folder (or, for a file at the top of server/src, itself) and from any lower layer.
 * Units in one layer are peers: neither imports the other.
 */
const layers: ReadonlyArray<readonly string[]> = [
  ['protocol'], //            the wire contract (protocol/src), shared with the client
  ['config.ts'], //           every setting, validated
  ['util', 'log.ts', 'errors.ts', 'DomainError.ts'], // small tools; the wire's error and the domain's
  ['auth'], //                tokens and principals
  ['auctions', 'giveaways'], // the pure rules of auctions (increments, proxy bids, anti-sniping) and of the verifiable draw
  ['redis'], //               the Redis client and call wrapper the store and the broker share
  ['store', 'broker'], //     durable state (stock, carts, orders, rooms) and room events between nodes
  ['admission', 'fanout'], // the cart desk and its gate; how room frames go out
  ['commerce', 'webhooks'], // the rules and news of carts and orders; order events delivered to the shop's backend
  ['rooms'], //               hosting, membership, commands
  ['media'], //               WebRTC through mediasoup
  ['ops', 'requests.ts'], //  metrics and process protection; requests routed to the domain
  ['transport'], //           the edge: uWS, HTTP routes, WebSocket gateway, wire errors
  ['server.ts'], //           the plan of the process
  ['demo.ts'],
  ['main.ts'], //             the command line
];

/** Libraries that only one part of the server may touch, so the rest stays free of them. */
const libraries: ReadonlyArray<{ name: string; allowed: (unit: string, file: string) => boolean; where: string }> = [
  { name: '@trufflesuite/uws-js-unofficial', allowed: (unit) => unit === 'transport', where: 'transport/' },
  { name: 'mediasoup', allowed: (unit) => unit === 'media', where: 'media/' },
  { name: 'mediasoup-client', allowed: (unit) => unit === 'media', where: 'media/' }, // its SDP layer, for WHIP
  { name: 'sdp-transform', allowed: (unit) => unit === 'media', where: 'media/' },
  { name: 'ioredis', allowed: (unit, file) => unit === 'redis' || ((unit === 'store' || unit === 'broker') && /^Redis/.test(file.split('/').at(-1)!)), where: 'redis/, store/Redis*, broker/Redis*' },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const serverDir = join(root, 'server/src');
const protocolDir = join(root, 'protocol/src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
}

/** Every module specifier of the file's static imports and re-exports, side-effect imports and dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const pattern of [/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const match of text.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** The layer unit a path under server/src belongs to: its top folder, or the file itself at the top. */
function unitOf(pathInServer: string): string {
  return pathInServer.split(sep)[0]!;
}

function layerOf(unit: string): number {
  return layers.findIndex((layer) => layer.includes(unit));
}

/** Where the specifier of `file` points: a unit of the server, the protocol, or a library. */
function targetOf(file: string, specifier: string): { kind: 'unit'; unit: string } | { kind: 'library'; name: string } | { kind: 'outside'; path: string } {
  if (!specifier.startsWith('.')) return { kind: 'library', name: specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]! };
  const target = resolve(dirname(file), specifier);
  if (target.startsWith(protocolDir + sep)) return { kind: 'unit', unit: 'protocol' };
  if (target.startsWith(serverDir + sep)) return { kind: 'unit', unit: unitOf(relative(serverDir, target)) };
  return { kind: 'outside', path: relative(root, target) };
}

describe('imports flow one way', () => {
  const files = sourceFiles(serverDir);

  it('finds the files and their imports', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(importsOf(join(serverDir, 'server.ts')).length).toBeGreaterThan(20);
  });

  it('every unit of server/src has a layer', () => {
    const units = new Set(files.map((f) => unitOf(relative(serverDir, f))));
    expect([...units].filter((unit) => layerOf(unit) < 0)).toEqual([]);
  });

  it('no file imports from a higher layer or a peer', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const path = relative(serverDir, file);
      const unit = unitOf(path);
      for (const specifier of importsOf(file)) {
        const target = targetOf(file, specifier);
        if (target.kind === 'outside') wrong.push(`${path} imports ${target.path}, outside server/src and protocol/src`);
        if (target.kind !== 'unit' || target.unit === unit) continue;
        if (layerOf(target.unit) >= layerOf(unit)) wrong.push(`${path} (${unit}) imports ${specifier} (${target.unit}, not a lower layer)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('uWS only in transport/, mediasoup only in media/, ioredis only in the Redis parts', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const path = relative(serverDir, file).split(sep).join('/');
      for (const specifier of importsOf(file)) {
        const target = targetOf(file, specifier);
        if (target.kind !== 'library') continue;
        const rule = libraries.find((l) => l.name === target.name);
        if (rule !== undefined && !rule.allowed(unitOf(relative(serverDir, file)), path)) wrong.push(`${path} imports ${target.name} (only ${rule.where})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the protocol imports nothing of the server or the client', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(protocolDir)) {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.') && !resolve(dirname(file), specifier).startsWith(protocolDir + sep)) wrong.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
