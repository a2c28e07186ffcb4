import { describe, expect, it } from 'vitest';
import { StockAnnouncer } from '../../server/src/commerce/StockAnnouncer.ts';

/** A node's levels may reach viewers after another node's newer ones: a quiet product is read back from the store and announced once more. */
describe('stock levels settle on the store\'s level', () => {
  const setup = (level: () => number | undefined) => {
    const clock = { now: 0 };
    const sent: string[] = [];
    const reads: string[] = [];
    const announcer = new StockAnnouncer(
      { publishStock: (roomId, sku, n) => void sent.push(`${roomId}/${sku}=${n}`), publishSoldOut: (roomId, sku) => void sent.push(`${roomId}/${sku} sold out`) },
      100, undefined, () => clock.now,
      { read: async (roomId, sku) => { reads.push(`${roomId}/${sku}`); return level(); }, onError: (error) => { throw error; } },
    );
    return { clock, sent, reads, announcer };
  };

  it('reads a product back once it has been quiet for three intervals, and announces what the store holds', async () => {
    let store = 5;
    const { clock, sent, reads, announcer } = setup(() => store);
    announcer.changed('r', 'mug', 7);
    announcer.flush();
    expect(sent).toEqual(['r/mug=7']);
    // Another node sold two more; its level (5) reached viewers before this node's 7.
    store = 5;
    clock.now = 200;
    announcer.flush();
    expect(reads).toEqual([]);
    clock.now = 300;
    announcer.flush();
    await Promise.resolve();
    await Promise.resolve();
    expect(reads).toEqual(['r/mug']);
    expect(sent).toEqual(['r/mug=7', 'r/mug=5']);
    // Read once per quiet spell: nothing more until the product changes again.
    clock.now = 1000;
    announcer.flush();
    await Promise.resolve();
    expect(reads).toEqual(['r/mug']);
    announcer.close();
  });

  it('a change while the read is under way wins: the read\'s level is not announced', async () => {
    let release: (n: number) => void = () => undefined;
    const clock = { now: 0 };
    const sent: string[] = [];
    const announcer = new StockAnnouncer(
      { publishStock: (roomId, sku, n) => void sent.push(`${roomId}/${sku}=${n}`), publishSoldOut: () => undefined },
      100, undefined, () => clock.now,
      { read: () => new Promise<number>((resolve) => { release = resolve; }), onError: (error) => { throw error; } },
    );
    announcer.changed('r', 'mug', 3);
    announcer.flush();
    clock.now = 300;
    announcer.flush();
    announcer.changed('r', 'mug', 2);
    release(3);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug=3']);
    announcer.flush();
    expect(sent).toEqual(['r/mug=3', 'r/mug=2']);
    announcer.close();
  });
});
