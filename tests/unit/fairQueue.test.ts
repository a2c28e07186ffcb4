import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../server/src/admission/FairQueue.ts';

/** Takes the head of the most important non-empty lane of the next room in turn. */
function takeOne<T>(queue: FairQueue<T>): [string, T] | undefined {
  const roomId = queue.nextRoom();
  if (roomId === undefined) return undefined;
  for (const lane of queue.lanesOf(roomId)!) {
    if (lane.size === 0) continue;
    const item = lane.shift()!;
    queue.taken(roomId, 1);
    return [roomId, item];
  }
  return undefined;
}

describe('FairQueue', () => {
  it('serves rooms in turn: a small room is not stuck behind a hot room\'s backlog', () => {
    const queue = new FairQueue<string>(1);
    for (let i = 0; i < 200; i++) queue.push('hot', 0, `h${i}`);
    queue.push('small', 0, 's');
    const order: string[] = [];
    for (let next = takeOne(queue); next !== undefined; next = takeOne(queue)) order.push(next[1]);
    expect(order).toHaveLength(201);
    expect(order.indexOf('s')).toBeLessThanOrEqual(1);
    expect(queue.size).toBe(0);
    expect(queue.roomCount).toBe(0);
  });

  it('keeps the turn order when a room in the middle empties', () => {
    const queue = new FairQueue<string>(1);
    for (const [room, n] of [['a', 2], ['b', 1], ['c', 2]] as const) for (let i = 0; i < n; i++) queue.push(room, 0, `${room}${i}`);
    const rooms: string[] = [];
    for (let next = takeOne(queue); next !== undefined; next = takeOne(queue)) rooms.push(next[0]);
    expect(rooms).toEqual(['a', 'b', 'c', 'a', 'c']);
  });

  it('takes the lower lanes first within a room and counts per room', () => {
    const queue = new FairQueue<string>(3);
    queue.push('r', 2, 'read');
    queue.push('r', 1, 'add');
    queue.push('r', 0, 'checkout');
    queue.push('other', 1, 'x');
    expect(queue.sizeOf('r')).toBe(3);
    expect(queue.size).toBe(4);
    const first = takeOne(queue)!;
    expect(first).toEqual(['r', 'checkout']);
    expect(queue.sizeOf('r')).toBe(2);
  });

  it('lists every waiting item with its place in its room\'s line', () => {
    const queue = new FairQueue<string>(2);
    queue.push('r', 1, 'second');
    queue.push('r', 0, 'first');
    queue.push('s', 1, 'only');
    expect([...queue.positions()]).toEqual([['first', 1, 'r'], ['second', 2, 'r'], ['only', 1, 's']]);
  });
});
