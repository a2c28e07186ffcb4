import { describe, expect, it } from 'vitest';
import { decode } from '../../protocol/src/index.ts';
import { DegradeMonitor, type MonitoredMember, type MonitoredRoom } from '../../server/src/fanout/DegradeMonitor.ts';
import { type DegradeLevel, DegradeState } from '../../server/src/fanout/DegradePolicy.ts';
import { captureLog, ERROR } from '../helpers/captureLog.ts';

const thresholds = { eventLoopDelayMs: 100, viewerLagMs: 1000, backloggedShare: 0.2, queueFill: 0.1, storeLatencyMs: 100, downAfterMs: 1000 };

/** A hosted room: users, each with their sockets. */
class FakeRoom implements MonitoredRoom {
  readonly degrade = new DegradeState();
  settings: { degradeOverride: DegradeLevel | null } = { degradeOverride: null };
  messagesIn = 0;
  messagesOut = 0;
  constructor(readonly id: string, readonly users: MonitoredMember[][] = [[socket()]]) {}
  get memberCount(): number {
    return this.users.reduce((n, sockets) => n + sockets.length, 0);
  }
  forEachUser(visit: (members: ReadonlySet<MonitoredMember>) => void): void {
    for (const sockets of this.users) visit(new Set(sockets));
  }
  countOut(): void {
    this.messagesOut++;
  }
}

function socket(bufferedBytes = 0, lagMs = 0, lastAckAt = 0): MonitoredMember {
  return { lagMs, lastAckAt, bufferedBytes: () => bufferedBytes };
}

/** A monitor over fake rooms, a fake fan-out, fake commerce pressure and a clock the test moves. */
function setup(rooms: FakeRoom[], noticeIntervalMs = 0) {
  const clock = { now: 0 };
  const hosted = new Map(rooms.map((room) => [room.id, room]));
  const pressure = new Map<string, { queueFill: number; storeLatencyMs: number }>();
  const published: Array<{ roomId: string; frame: Record<string, unknown> }> = [];
  const cut: string[] = [];
  const scheduled: Array<() => void> = [];
  const { log, lines } = captureLog();
  const monitor = new DegradeMonitor({
    rooms: { hostedRooms: () => hosted.values() },
    fanout: {
      lagMs: () => 0,
      cutViewerChatter: (roomId) => void cut.push(roomId),
      publish: (roomId, _lane, _type, frame) => {
        published.push({ roomId, frame: decode(frame) as Record<string, unknown> });
        return 1;
      },
    },
    pressure: { pressureOf: (roomId) => pressure.get(roomId) ?? { queueFill: 0, storeLatencyMs: 0 } },
    eventLoopDelayMs: () => 0,
    options: { thresholds, checkMs: 100, softBufferBytes: 1000, noticeIntervalMs },
    log,
    now: () => clock.now,
    schedule: (run) => void scheduled.push(run),
  });
  return { monitor, clock, hosted, pressure, published, cut, scheduled, lines };
}

describe('DegradeMonitor', () => {
  it('degrades the room whose cart queue fills at once, tells its sockets and listeners, leaves the room next to it alone, and steps down after calm', () => {
    const hot = new FakeRoom('hot');
    const calm = new FakeRoom('calm');
    const { monitor, clock, pressure, published, cut } = setup([hot, calm]);
    const heard: Array<{ roomId: string; level: DegradeLevel }> = [];
    monitor.events.on('levelChanged', (change) => heard.push(change));

    pressure.set('hot', { queueFill: 0.5, storeLatencyMs: 0 }); // 5x the threshold: level 3 (a count is believed at once)
    monitor.check();
    expect(hot.degrade.level).toBe(3);
    expect(calm.degrade.level).toBe(0);
    expect(heard).toEqual([{ roomId: 'hot', level: 3 }]);
    expect(published).toEqual([{ roomId: 'hot', frame: { t: 'degrade', level: 3, reason: 'queueFill 0.5' } }]);
    expect(cut).toEqual(['hot']);
    expect(hot.messagesOut).toBe(1);

    pressure.delete('hot');
    clock.now = 500;
    monitor.check();
    expect(hot.degrade.level).toBe(3); // calm for less than downAfterMs
    clock.now = 1500;
    monitor.check();
    expect(hot.degrade.level).toBe(2);
    expect(heard.at(-1)).toEqual({ roomId: 'hot', level: 2 });
    expect(monitor.status().map((s) => [s.roomId, s.level])).toEqual([['hot', 2], ['calm', 0]]);
  });

  it('tells a room\'s sockets its level at most once per notice interval, the newest level winning, while the node acts on each change at once', () => {
    const room = new FakeRoom('burst');
    const { monitor, clock, pressure, published, cut } = setup([room], 1000);
    const heard: DegradeLevel[] = [];
    monitor.events.on('levelChanged', ({ level }) => heard.push(level));
    const told = () => published.map((p) => p.frame.level);

    pressure.set('burst', { queueFill: 0.15, storeLatencyMs: 0 });
    monitor.check();
    expect(told()).toEqual([1]); // the first change goes at once
    clock.now = 100;
    pressure.set('burst', { queueFill: 0.25, storeLatencyMs: 0 });
    monitor.check();
    clock.now = 600;
    pressure.set('burst', { queueFill: 0.5, storeLatencyMs: 0 });
    monitor.check();
    expect(heard).toEqual([1, 2, 3]); // media and chatter follow every step at once
    expect(cut).toEqual(['burst', 'burst']);
    expect(told()).toEqual([1]);
    clock.now = 999;
    monitor.check();
    expect(told()).toEqual([1]);
    clock.now = 1000;
    monitor.check();
    expect(told()).toEqual([1, 3]); // the newest level, once
    expect(room.messagesOut).toBe(2);
  });

  it('tells nothing when the level came back to what the sockets last heard within the interval, and forgets a room that is gone', () => {
    const room = new FakeRoom('flap');
    const { monitor, clock, hosted, pressure, published } = setup([room], 5000);
    pressure.set('flap', { queueFill: 0.15, storeLatencyMs: 0 });
    monitor.check();
    clock.now = 100;
    pressure.set('flap', { queueFill: 0.25, storeLatencyMs: 0 });
    monitor.check();
    expect(room.degrade.level).toBe(2);
    pressure.set('flap', { queueFill: 0.15, storeLatencyMs: 0 });
    clock.now = 200;
    monitor.check();
    clock.now = 1200; // calm below level 2 for downAfterMs: back to 1
    monitor.check();
    expect(room.degrade.level).toBe(1);
    clock.now = 6000;
    monitor.check();
    expect(published.map((p) => p.frame.level)).toEqual([1]);
    expect(monitor.perRoomState()).toEqual({ toldLevels: 1 });
    hosted.delete('flap');
    monitor.check();
    expect(monitor.perRoomState()).toEqual({ toldLevels: 0 });
  });

  it('logs a listener that throws; the other listeners still hear, and the loop goes on for every other room', () => {
    const rooms = [new FakeRoom('a'), new FakeRoom('b'), new FakeRoom('c')];
    const { monitor, pressure, published, lines } = setup(rooms);
    monitor.events.on('levelChanged', () => {
      throw new Error('media is broken');
    });
    const heard: string[] = [];
    monitor.events.on('levelChanged', ({ roomId }) => heard.push(roomId));
    for (const room of rooms) pressure.set(room.id, { queueFill: 0.2, storeLatencyMs: 0 });

    expect(() => monitor.check()).not.toThrow();
    expect(rooms.map((room) => room.degrade.level)).toEqual([2, 2, 2]);
    expect(heard).toEqual(['a', 'b', 'c']);
    expect(published.map((p) => p.roomId)).toEqual(['a', 'b', 'c']);
    const errors = lines.filter((line) => line.level === ERROR);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ msg: 'a degrade listener threw', event: 'levelChanged', err: { message: 'media is broken' } });
  });

  it('takes the override from the room\'s settings when it starts hosting the room and when they change, and tells the sockets a new level only', () => {
    const { monitor, hosted, published } = setup([]);
    const room = new FakeRoom('later');
    room.settings = { degradeOverride: 2 };
    monitor.hosted(room);
    hosted.set(room.id, room);
    expect(room.degrade.level).toBe(2);
    expect(room.degrade.reason).toBe('operator');
    expect(published).toEqual([]); // hosting: the welcome carries the level

    room.settings = { degradeOverride: 3 };
    monitor.settingsChanged(room);
    expect(published.map((p) => p.frame)).toEqual([{ t: 'degrade', level: 3, reason: 'operator' }]);
    monitor.settingsChanged(room); // the same settings again (the broker's copy): nothing new to tell
    expect(published).toHaveLength(1);

    room.settings = { degradeOverride: null };
    monitor.settingsChanged(room);
    expect(room.degrade.level).toBe(0);
    expect(published.map((p) => p.frame).at(-1)).toEqual({ t: 'degrade', level: 0, reason: 'normal' });
    monitor.check();
    expect(room.degrade.level).toBe(0); // automatic again
  });

  it('counts a user as backlogged only when every socket of theirs is, and shows the median ack lag without acting on it', () => {
    const room = new FakeRoom('r', [
      [socket(5000), socket(10)], // one socket still reads: not backlogged
      [socket(5000, 9000, 1)], // backlogged, and far behind in acks
      [socket(0, 100, 1)],
      [socket(0)],
    ]);
    const { monitor, clock } = setup([room]);
    const [status] = monitor.status();
    expect(status?.signals.backloggedShare).toBe(0.25);
    expect(status?.clientLagMs).toBe(9000); // median of the users that acked (100 and 9000): the upper one
    monitor.check();
    clock.now = 100;
    monitor.check();
    expect(room.degrade.level).toBe(1); // 0.25 over the 0.2 threshold: level 1, whatever the acks say
  });

  it('checks early at most once per fifth of the check interval', () => {
    const room = new FakeRoom('r');
    const { monitor, clock, pressure, scheduled } = setup([room]);
    pressure.set('r', { queueFill: 0.15, storeLatencyMs: 0 });
    clock.now = 1000;
    monitor.checkSoon();
    monitor.checkSoon();
    expect(scheduled).toHaveLength(1);
    scheduled.shift()!();
    expect(room.degrade.level).toBe(1);
    clock.now = 1010;
    monitor.checkSoon();
    expect(scheduled).toHaveLength(0); // checked 10 ms ago
    clock.now = 1020;
    monitor.checkSoon();
    expect(scheduled).toHaveLength(1);
  });
});
