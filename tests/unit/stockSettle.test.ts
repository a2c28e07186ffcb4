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

describe('a sold-out is the product\'s last word on 0', () => {
  const setup = (level?: () => Promise<number | undefined>) => {
    const clock = { now: 0 };
    const sent: string[] = [];
    const announcer = new StockAnnouncer(
      { publishStock: (roomId, sku, n) => void sent.push(`${roomId}/${sku}=${n}`), publishSoldOut: (roomId, sku) => void sent.push(`${roomId}/${sku} sold out`) },
      100, undefined, () => clock.now,
      level === undefined ? undefined : { read: level, onError: (error) => { throw error; } },
    );
    return { clock, sent, announcer };
  };

  it('announces sold out at once and no `stock` 0 after it; the level waiting before it does not go out either', () => {
    const { clock, sent, announcer } = setup();
    announcer.changed('r', 'mug', 2);
    announcer.flush();
    clock.now = 50;
    announcer.changed('r', 'mug', 1); // waits for the interval
    announcer.changed('r', 'mug', 0);
    expect(sent).toEqual(['r/mug=2', 'r/mug sold out']);
    for (clock.now = 100; clock.now <= 500; clock.now += 100) announcer.flush();
    expect(sent).toEqual(['r/mug=2', 'r/mug sold out']);
    // Back in stock here, then sold out again: the same, once more.
    announcer.changed('r', 'mug', 3);
    announcer.flush();
    announcer.changed('r', 'mug', 0);
    for (clock.now = 600; clock.now <= 900; clock.now += 100) announcer.flush();
    expect(sent).toEqual(['r/mug=2', 'r/mug sold out', 'r/mug=3', 'r/mug sold out']);
    announcer.close();
  });

  it('a 0 after its own sold-out is announced as a level: another node may have put the product back in between', () => {
    const { clock, sent, announcer } = setup();
    announcer.changed('r', 'mug', 0);
    clock.now = 100;
    announcer.changed('r', 'mug', 0);
    announcer.flush();
    expect(sent).toEqual(['r/mug sold out', 'r/mug=0']);
    announcer.close();
  });

  it('a sold-out while the settle read is under way wins: the read\'s older level is not announced', async () => {
    let release: (n: number) => void = () => undefined;
    const { clock, sent, announcer } = setup(() => new Promise<number>((resolve) => { release = resolve; }));
    announcer.changed('r', 'mug', 1);
    announcer.flush();
    clock.now = 300;
    announcer.flush(); // the read starts
    announcer.changed('r', 'mug', 0);
    release(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug=1', 'r/mug sold out']);
    announcer.close();
  });

  it('another node\'s sold-out heard here: the level still waiting does not go out, and the product is read back afresh', async () => {
    let store = 1;
    let reads = 0;
    const { clock, sent, announcer } = setup(async () => (reads++, store));
    announcer.changed('r', 'mug', 2);
    announcer.flush();
    clock.now = 50;
    announcer.changed('r', 'mug', 1); // waits for the interval; meanwhile another node sells the last unit
    store = 0;
    announcer.soldOutHeard('r', 'mug');
    announcer.soldOutHeard('r', 'other'); // nothing said of it here: nothing to settle
    for (clock.now = 100; clock.now < 350; clock.now += 100) announcer.flush();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug=2']);
    expect(reads).toBe(0);
    // Quiet for three intervals since the sold-out: the store's level is this node's last word.
    clock.now = 350;
    announcer.flush();
    await Promise.resolve();
    await Promise.resolve();
    expect(reads).toBe(1);
    expect(sent).toEqual(['r/mug=2', 'r/mug=0']);
    announcer.close();
  });

  it('a read-back under way when a sold-out is heard is not announced: it may have been read before the last unit went', async () => {
    const releases: Array<(n: number) => void> = [];
    const { clock, sent, announcer } = setup(() => new Promise<number>((resolve) => void releases.push(resolve)));
    announcer.changed('r', 'mug', 1);
    announcer.flush();
    clock.now = 300;
    announcer.flush(); // the read starts
    announcer.soldOutHeard('r', 'mug');
    releases[0]!(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug=1']);
    clock.now = 600;
    announcer.flush(); // read again
    releases[1]!(0);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug=1', 'r/mug=0']);
    announcer.close();
  });

  it('the read-back goes out even when it equals this node\'s last word: another node\'s older level may have reached viewers after it', async () => {
    const { clock, sent, announcer } = setup(async () => 0);
    announcer.changed('r', 'mug', 0);
    clock.now = 300;
    announcer.flush();
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(['r/mug sold out', 'r/mug=0']);
    announcer.close();
  });

  it('tells a second sell-out as one after it heard the product back, whichever node brought it back', () => {
    const { sent, announcer } = setup();
    announcer.changed('r', 'mug', 0);
    expect(sent).toEqual(['r/mug sold out']);
    // A 0 with no come-back heard since says nothing new: it is not a second sell-out.
    announcer.changed('r', 'mug', 0);
    expect(sent).toEqual(['r/mug sold out']);
    // Another node released a unit and the room confirmed it; this node then sold it.
    announcer.comeBackHeard('r', 'mug');
    announcer.comeBackHeard('elsewhere', 'mug'); // nothing kept for that room: nothing to do
    announcer.changed('r', 'mug', 0);
    expect(sent).toEqual(['r/mug sold out', 'r/mug sold out']);
    // A reserve that took the last unit is a new sell-out, though this node heard no come-back (it does not host the room).
    announcer.changed('r', 'mug', 0, true);
    expect(sent).toEqual(['r/mug sold out', 'r/mug sold out', 'r/mug sold out']);
    announcer.close();
  });
});
