/**
 * The operator console: /operator?token=…. Polls GET /api/ops/nodes, /api/ops/rooms and
 * /api/ops/node: every node of the cluster (health, rooms, sockets, heartbeat age, down ones
 * marked), every room across nodes (viewers summed, each node's part, and the degrade level,
 * admission queue, admit rate, rejections and store latency of the node it talks to, with
 * sparklines of the last minutes) and this node's own health. Sets a room's degrade level and queue
 * limit for every node, and moderates a room (mute, unmute, kick) through the SDK, joined to the
 * room as an operator.
 */
import { connect, type HistoryComment, type LivecartClient } from '../../src/index.ts';
import type { ClusterRoom, NodeStatus, OpsNodes, OpsRooms } from '../../../protocol/src/index.ts';
import { api, ApiError, byId, errorText, fatal, formatDuration, formatNumber, h, params, say, setText, show, trackConnection, wsUrl } from './common.ts';
import { formatMoney, formatTime, startI18n, t, tn } from './i18n.ts';
import { Series, sparkline } from './sparkline.ts';

const POLL_MS = 2000;
/** Five minutes of samples. */
const HISTORY = Math.round((5 * 60 * 1000) / POLL_MS);
const MAX_COMMENTS_SHOWN = 50;

/** The registry answers, and whether the shared registry could be read (else: this node alone). */
type Registry = { registry: 'ok' | 'unavailable' };
interface NodeHealth {
  eventLoopDelayMs: { p99: number; max: number };
  rssMb: number;
  protection: { overloaded: boolean; reason: string | null; refusedConnections: number };
  connections: { connectionsOpen: number; connectionsTotal: number; framesIn: number; badFrames: number; framesSent: number; bytesSent: number; slowConsumerCloses: number; chatterDemotions: number };
  fanout: { framesPublished: number; bytesPublished: number; chatterSampled: number; chatterDropped: number };
  admission: { concurrencyLimit: number; inFlight: number } | null;
  hostedRooms: number;
  /** With Redis: rooms whose event order this node keeps itself (sequencer lease), and what came of it. */
  sequencer: { leasesHeld: number; sequencedLocally: number; leasesReleased: number; resets: number };
  media: {
    available: boolean;
    reason?: string;
    workers: Array<{ index: number; pid: number; consumers: number; routers: number; cpu: number }>;
    workerDeaths: number;
    producers: number;
    consumers: number;
    bitrateOutBps: number;
  };
}

interface RoomHistory {
  viewers: Series;
  level: Series;
  queued: Series;
  admitRate: Series;
  rejectRate: Series;
  storeP99: Series;
  outRate: Series;
  last?: { at: number; admitted: number; rejected: number; messagesIn: number; messagesOut: number };
}

const levelNames = [t('ops.level0'), t('ops.level1'), t('ops.level2'), t('ops.level3')];

const el = {
  updated: byId('updated'),
  status: byId('status'),
  registryStatus: byId('registry-status'),
  nodeRows: byId<HTMLTableSectionElement>('node-rows'),
  node: byId('node'),
  nodeTitle: byId('node-title'),
  roomRows: byId<HTMLTableSectionElement>('room-rows'),
  noRooms: byId('no-rooms'),
  modRoomForm: byId<HTMLFormElement>('mod-room-form'),
  modRoom: byId<HTMLInputElement>('mod-room'),
  modConn: byId('mod-conn'),
  modPanel: byId('mod-panel'),
  modComments: byId<HTMLOListElement>('mod-comments'),
  modUserForm: byId<HTMLFormElement>('mod-user-form'),
  modUser: byId<HTMLInputElement>('mod-user'),
};

const token = params.get('token');
const histories = new Map<string, RoomHistory>();
const nodeHistory = { eventLoop: new Series(HISTORY), rss: new Series(HISTORY), connections: new Series(HISTORY) };
let moderated: LivecartClient | undefined;


let polling = false;
/** Whether a poll ever succeeded: a token refused from the start cannot open the console at all. */
let polledOnce = false;
let pollTimer: ReturnType<typeof setInterval> | undefined;

async function poll(token: string): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    const [nodes, rooms, node] = await Promise.all([
      api<OpsNodes & Registry>('/api/ops/nodes', { token }),
      api<OpsRooms & Registry>('/api/ops/rooms', { token }),
      api<NodeHealth>('/api/ops/node', { token }),
    ]);
    renderNodes(nodes);
    renderNode(node, nodes.nodes.find((n) => n.self));
    renderRooms(token, rooms.rooms);
    polledOnce = true;
    setText(el.updated, t('orders.updated', { at: formatTime(Date.now()) }));
    if (el.status.dataset.kind === 'error' && el.status.dataset.source === 'poll') say(el.status, '');
  } catch (error) {
    el.status.dataset.source = 'poll';
    const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
    if (refused && !polledOnce) {
      // Asking again will not change the answer: say so in the page's place, and stop.
      clearInterval(pollTimer);
      setText(el.updated, '');
      fatal(t('ops.tokenRefused', { why: errorText(error) }), t('ops.needsTokenDetail'));
    } else if (refused) say(el.status, t('ops.tokenRefused', { why: errorText(error) }), 'error');
    else say(el.status, t('ops.unreachable', { why: errorText(error) }), 'error');
  } finally {
    polling = false;
  }
}

// ------------------------------------------------------------------ nodes

/** Every node of the cluster, this console's first; a node without a recent heartbeat is marked down. */
function renderNodes(answer: OpsNodes & Registry): void {
  show(el.registryStatus, answer.registry !== 'ok');
  setText(el.registryStatus, answer.registry === 'ok' ? '' : t('ops.registryDown'));
  const seen = new Set<string>();
  for (const node of answer.nodes) {
    seen.add(node.nodeId);
    const row = el.nodeRows.querySelector<HTMLTableRowElement>(`tr[data-node="${CSS.escape(node.nodeId)}"]`) ?? buildNodeRow(node);
    el.nodeRows.append(row); // keep the answer's order
    const cell = (name: string) => row.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
    row.dataset.state = node.down ? 'down' : node.draining ? 'draining' : 'up';
    setText(cell('state'), node.down ? t('ops.down') : node.draining ? t('ops.draining') : t('ops.up'));
    setText(cell('age'), t('ops.secondsAgo', { n: formatNumber(node.heartbeatAgeMs / 1000, 1) }));
    setText(cell('sockets'), formatNumber(node.sockets));
    const degraded = node.load.roomsByLevel[1] + node.load.roomsByLevel[2] + node.load.roomsByLevel[3];
    setText(cell('rooms'), formatNumber(node.rooms.length + node.roomsOmitted));
    setText(cell('rooms-detail'), degraded > 0 ? t('ops.degraded', { n: formatNumber(degraded) }) : '');
    setText(cell('load'), t('ops.load', { loop: formatNumber(node.load.eventLoopDelayMs, 1), cpu: formatNumber(node.load.cpuPercent), rss: formatNumber(node.load.rssMb) }));
    const notes = [node.load.overloaded ? t('ops.refusing') : '', node.load.admissionInFlight === null ? t('ops.admissionOff') : t('ops.storeCalls', { n: formatNumber(node.load.admissionInFlight) })];
    setText(cell('load-detail'), notes.filter(Boolean).join(' · '));
  }
  for (const row of Array.from(el.nodeRows.querySelectorAll<HTMLTableRowElement>('tr[data-node]'))) {
    if (!seen.has(row.dataset.node!)) row.remove();
  }
}

function buildNodeRow(node: NodeStatus): HTMLTableRowElement {
  const id = node.nodeId;
  const value = (label: string, name: string, detail = false) =>
    h('td', { 'data-label': label }, h('span', { class: 'metric', 'data-cell': name, 'data-testid': `node-${name}-${id}` }), detail ? h('span', { class: 'muted small block', 'data-cell': `${name}-detail` }) : null);
  return h(
    'tr',
    { 'data-node': id },
    h(
      'th',
      { scope: 'row', 'data-label': t('ops.colNode') },
      h('span', { class: 'block' }, id, node.self ? h('span', { class: 'muted small' }, ` ${t('ops.thisConsole')}`) : null),
      h('a', { href: node.url, class: 'muted small block node-url' }, node.url),
    ),
    value(t('ops.colState'), 'state'),
    value(t('ops.colHeartbeat'), 'age'),
    value(t('ops.colSockets'), 'sockets'),
    value(t('ops.colRooms'), 'rooms', true),
    value(t('ops.colLoad'), 'load', true),
  );
}

// ------------------------------------------------------------------ this node

function renderNode(node: NodeHealth, self: NodeStatus | undefined): void {
  if (self) setText(el.nodeTitle, t('ops.nodeHealthOf', { id: self.nodeId }));

  nodeHistory.eventLoop.push(node.eventLoopDelayMs.p99);
  nodeHistory.rss.push(node.rssMb);
  nodeHistory.connections.push(node.connections.connectionsOpen);
  const protection = node.protection.overloaded ? t('ops.refusingWhy', { why: node.protection.reason ?? 'overloaded' }) : t('ops.accepting');
  const tiles: Array<[string, string, SVGSVGElement | null, boolean?]> = [
    [t('ops.tileLoop'), t('ops.msMax', { ms: formatNumber(node.eventLoopDelayMs.p99, 1), max: formatNumber(node.eventLoopDelayMs.max, 1) }), sparkline(nodeHistory.eventLoop.values, { label: t('ops.chartLoop'), minMax: 20, format: (v) => `${formatNumber(v, 1)} ms` })],
    [t('ops.tileMemory'), `${formatNumber(node.rssMb)} MB`, sparkline(nodeHistory.rss.values, { label: t('ops.chartMemory'), minMax: 64, format: (v) => `${formatNumber(v)} MB` })],
    [t('ops.tileConnections'), formatNumber(node.connections.connectionsOpen), sparkline(nodeHistory.connections.values, { label: t('ops.chartConnections'), format: (v) => formatNumber(v) })],
    [t('ops.tileProtection'), t('ops.refused', { state: protection, n: formatNumber(node.protection.refusedConnections) }), null, node.protection.overloaded],
    [t('ops.tileStore'), node.admission ? t('ops.limitInFlight', { limit: node.admission.concurrencyLimit, n: node.admission.inFlight }) : t('ops.admissionOff'), null],
    [t('ops.tileHosted'), formatNumber(node.hostedRooms), null],
    [t('ops.tileOrder'), t('ops.orderValue', { rooms: formatNumber(node.sequencer.leasesHeld), events: formatNumber(node.sequencer.sequencedLocally), resets: formatNumber(node.sequencer.resets) }), null, node.sequencer.resets > 0],
    [t('studio.video'), videoSummary(node.media), null, !node.media.available],
    [t('ops.tileFrames'), `${formatNumber(node.connections.framesSent)} (${formatNumber(node.connections.bytesSent / 1e6, 1)} MB)`, null],
    [t('ops.tileSlow'), formatNumber(node.connections.slowConsumerCloses), null],
    [t('ops.tileChatter'), `${formatNumber(node.fanout.chatterSampled)} / ${formatNumber(node.fanout.chatterDropped)}`, null],
  ];
  el.node.replaceChildren(
    ...tiles.map(([label, value, chart, alarm]) => h('div', { class: alarm ? 'tile alarm' : 'tile' }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value' }, value), chart)),
  );
}

/** Workers (consumers, CPU share of a core), live streams and viewers' tracks, or why there is no video. */
function videoSummary(media: NodeHealth['media']): string {
  if (!media.available) return t('ops.videoUnavailable', { why: media.reason ?? 'no media worker' });
  const workers = media.workers.map((w) => t('ops.worker', { i: w.index, n: formatNumber(w.consumers), cpu: formatNumber(w.cpu * 100) })).join(' · ');
  const deaths = media.workerDeaths > 0 ? ` · ${t('ops.restarts', { n: formatNumber(media.workerDeaths) })}` : '';
  return `${t('ops.mediaSummary', { tracks: formatNumber(media.producers), consumers: formatNumber(media.consumers), mbit: formatNumber(media.bitrateOutBps / 1e6, 1) })} · ${workers}${deaths}`;
}

// ------------------------------------------------------------------ rooms

function renderRooms(token: string, rooms: readonly ClusterRoom[]): void {
  const now = Date.now();
  show(el.noRooms, rooms.length === 0);
  const seen = new Set<string>();
  for (const room of rooms) {
    seen.add(room.roomId);
    const history = historyOf(room.roomId);
    const local = room.local;
    const adm = local?.admission ?? null;
    const admitted = adm?.admitted ?? 0;
    const rejected = (adm?.rejected ?? 0) + (adm?.expired ?? 0);
    const messagesIn = local?.messagesIn ?? 0;
    const messagesOut = local?.messagesOut ?? 0;
    const dt = history.last ? (now - history.last.at) / 1000 : 0;
    const admitRate = history.last && dt > 0 ? Math.max(0, admitted - history.last.admitted) / dt : adm?.drainRate ?? 0;
    const rejectRate = history.last && dt > 0 ? Math.max(0, rejected - history.last.rejected) / dt : 0;
    const inRate = history.last && dt > 0 ? Math.max(0, messagesIn - history.last.messagesIn) / dt : 0;
    const outRate = history.last && dt > 0 ? Math.max(0, messagesOut - history.last.messagesOut) / dt : 0;
    history.last = { at: now, admitted, rejected, messagesIn, messagesOut };
    // This node's level where it hosts the room, else the highest over the nodes that do.
    const level = local?.level ?? Math.max(0, ...room.nodes.filter((n) => !n.down).map((n) => n.level));
    history.outRate.push(outRate);
    history.viewers.push(room.viewers);
    history.level.push(level);
    history.queued.push(adm?.queued ?? 0);
    history.admitRate.push(admitRate);
    history.rejectRate.push(rejectRate);
    history.storeP99.push(adm?.storeLatencyMs.p99 ?? local?.signals.storeLatencyMs ?? 0);

    const row = el.roomRows.querySelector<HTMLTableRowElement>(`tr[data-room="${CSS.escape(room.roomId)}"]`) ?? buildRow(token, room.roomId);
    el.roomRows.append(row); // keep the answer's order (most viewers first)
    const cell = (name: string) => row.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
    const chart = (name: string) => cell(name).querySelector<SVGSVGElement>('svg') ?? undefined;
    row.dataset.level = String(level);
    row.dataset.hostedHere = local ? 'yes' : 'no';
    const giveaway = cell('giveaway');
    show(giveaway, room.giveaway !== undefined);
    setText(giveaway, room.giveaway === undefined ? '' : `🎁 ${t('ops.giveaway', { id: room.giveaway.id, entrants: tn('giveaway.entrants', room.giveaway.entrants), time: formatTime(room.giveaway.closesAt) })}`);
    const auction = cell('auction');
    show(auction, room.auction !== undefined);
    setText(auction, room.auction === undefined ? '' : `🔨 ${t('ops.auction', {
      id: room.auction.id, price: formatMoney(room.auction.priceCents), leader: room.auction.leader ?? t('ops.auctionNoLeader'),
      bids: tn('auction.bids', room.auction.bids), left: formatDuration(room.auction.endsAt - Date.now()),
    })}`);
    setText(cell('members-value'), formatNumber(room.viewers));
    setText(cell('members-detail'), tn('ops.sockets', room.sockets));
    sparkline(history.viewers.values, { label: t('ops.chartViewers', { room: room.roomId }), format: (v) => formatNumber(v) }, chart('members-chart'));
    renderRoomNodes(cell('nodes-value'), room);
    setText(cell('msgs-value'), local ? `${formatNumber(inRate, 1)} / ${formatNumber(outRate, 0)}` : '—');
    setText(cell('msgs-detail'), local ? t('ops.inOut') : t('ops.notHere'));
    sparkline(history.outRate.values, { label: t('ops.chartMsgs', { room: room.roomId }), format: (v) => formatNumber(v) }, chart('msgs-chart'));
    setText(cell('level-value'), `${level} · ${levelNames[level] ?? ''}`);
    setText(cell('level-reason'), room.settings.degradeOverride !== null ? t('ops.fixed') : local ? reasonText(local.reason) : t('ops.judged'));
    sparkline(history.level.values, { label: t('ops.chartLevel', { room: room.roomId }), max: 3 }, chart('level-chart'));
    const limit = adm?.queueLimit ?? room.settings.queueLimit;
    setText(cell('queue-value'), adm ? `${formatNumber(adm.queued)} / ${formatNumber(adm.queueLimit)}` : limit === null ? '—' : t('ops.limitN', { n: formatNumber(limit) }));
    const queueNotes = [adm ? t('ops.inFlight', { n: adm.inFlight }) : local ? t('ops.noCartYet') : t('ops.notHere'), room.settings.queueLimit === null ? '' : t('ops.limitEvery')];
    setText(cell('queue-detail'), queueNotes.filter(Boolean).join(' · '));
    sparkline(history.queued.values, { label: t('ops.chartQueue', { room: room.roomId }), format: (v) => formatNumber(v) }, chart('queue-chart'));
    setText(cell('rate-value'), adm ? `${formatNumber(admitRate, 1)}/s` : '—');
    sparkline(history.admitRate.values, { label: t('ops.chartRate', { room: room.roomId }), format: (v) => t('ops.perSecond', { n: formatNumber(v, 1) }) }, chart('rate-chart'));
    setText(cell('rejected-value'), adm ? formatNumber(rejected) : '—');
    setText(cell('rejected-detail'), adm ? t('ops.rejectedDetail', { expired: formatNumber(adm.expired), fast: formatNumber(adm.soldOutFast) }) : '');
    sparkline(history.rejectRate.values, { label: t('ops.chartRejected', { room: room.roomId }), format: (v) => formatNumber(v, 1) }, chart('rejected-chart'));
    setText(cell('p99-value'), local ? `${formatNumber(adm?.storeLatencyMs.p99 ?? local.signals.storeLatencyMs, 1)} ms` : '—');
    sparkline(history.storeP99.values, { label: t('ops.chartP99', { room: room.roomId }), minMax: 5, format: (v) => `${formatNumber(v, 1)} ms` }, chart('p99-chart'));
    const select = cell('level-select') as HTMLSelectElement;
    if (document.activeElement !== select && select.dataset.dirty !== '1') select.value = room.settings.degradeOverride === null ? 'auto' : String(room.settings.degradeOverride);
    const limitInput = cell('limit-input') as HTMLInputElement;
    if (document.activeElement !== limitInput && limitInput.value === '') limitInput.placeholder = limit === null ? t('ops.limitPlaceholder') : String(limit);
  }
  for (const row of Array.from(el.roomRows.querySelectorAll<HTMLTableRowElement>('tr[data-room]'))) {
    if (!seen.has(row.dataset.room!)) row.remove();
  }
}

/** The node's reason for a room's level: "normal" in the page's words; a signal's name and value ("loopDelayMs 212") as it is. */
function reasonText(reason: string): string {
  return reason === 'normal' ? t('ops.reasonNormal') : reason;
}

/** Each node's part of the room: its viewers and level; a node that is down is marked. */
function renderRoomNodes(list: HTMLElement, room: ClusterRoom): void {
  const shown = room.nodes.map((n) => `${n.nodeId}:${n.down}:${n.viewers}:${n.level}`).join('|');
  if (list.dataset.shown === shown) return;
  list.dataset.shown = shown;
  list.replaceChildren(
    ...room.nodes.map((n) =>
      h(
        'li',
        { 'data-node': n.nodeId, 'data-state': n.down ? 'down' : 'up', title: n.url },
        h('span', { class: 'node-id' }, n.nodeId),
        ` ${tn('ops.viewersAtLevel', n.viewers, { level: n.level })}`,
        n.down ? h('span', { class: 'badge down-badge' }, t('ops.downBadge')) : null,
      ),
    ),
  );
}

function historyOf(roomId: string): RoomHistory {
  let history = histories.get(roomId);
  if (!history) {
    history = { viewers: new Series(HISTORY), level: new Series(HISTORY), queued: new Series(HISTORY), admitRate: new Series(HISTORY), rejectRate: new Series(HISTORY), storeP99: new Series(HISTORY), outRate: new Series(HISTORY) };
    histories.set(roomId, history);
  }
  return history;
}

function buildRow(token: string, roomId: string): HTMLTableRowElement {
  const svg = () => sparkline([], { label: t('ops.noData') });
  const metric = (label: string, name: string, detail = false) =>
    h('td', { 'data-label': label }, h('span', { class: 'metric', 'data-cell': `${name}-value`, 'data-testid': `${name}-${roomId}` }), detail ? h('span', { class: 'muted small block', 'data-cell': `${name === 'level' ? 'level-reason' : `${name}-detail`}` }) : null, h('span', { 'data-cell': `${name}-chart` }, svg()));

  const nodes = h('td', { 'data-label': t('ops.colNodes') }, h('ul', { class: 'room-nodes', 'data-cell': 'nodes-value', 'data-testid': `nodes-${roomId}`, 'aria-label': t('ops.nodesHosting', { room: roomId }) }));
  const select = h(
    'select',
    { 'data-cell': 'level-select', 'aria-label': t('ops.levelFor', { room: roomId }), 'data-testid': `level-select-${roomId}` },
    h('option', { value: 'auto' }, t('ops.automatic')),
    ...levelNames.map((name, level) => h('option', { value: String(level) }, `${level} · ${name}`)),
  );
  select.addEventListener('change', () => {
    select.dataset.dirty = '1';
  });
  const apply = () => {
    const level = select.value === 'auto' ? null : Number(select.value);
    api(`/api/ops/rooms/${encodeURIComponent(roomId)}/degrade`, { method: 'PUT', token, body: { level } }).then(
      () => {
        select.dataset.dirty = '';
        say(el.status, level === null ? t('ops.levelAuto', { room: roomId }) : t('ops.levelFixed', { room: roomId, level, name: levelNames[level] ?? '' }), 'ok');
        void poll(token);
      },
      (error: unknown) => say(el.status, t('ops.levelFailed', { room: roomId, why: errorText(error) }), 'error'),
    );
  };
  const limit = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', 'data-cell': 'limit-input', 'aria-label': t('ops.limitFor', { room: roomId }), 'data-testid': `limit-input-${roomId}` });
  /** `null`: back to each node's default limit. */
  const sendLimit = (queueLimit: number | null) => {
    api(`/api/ops/rooms/${encodeURIComponent(roomId)}/limits`, { method: 'PUT', token, body: { queueLimit } }).then(
      () => {
        limit.value = '';
        say(el.status, queueLimit === null ? t('ops.limitDefault', { room: roomId }) : t('ops.limitSet', { room: roomId, n: queueLimit }), 'ok');
        void poll(token);
      },
      (error: unknown) => say(el.status, t('ops.limitFailed', { room: roomId, why: errorText(error) }), 'error'),
    );
  };
  const setLimit = () => {
    const queueLimit = Number(limit.value);
    if (limit.value === '' || !Number.isInteger(queueLimit) || queueLimit < 0) {
      say(el.status, t('ops.badLimit'), 'error');
      return;
    }
    sendLimit(queueLimit);
  };
  return h(
    'tr',
    { 'data-room': roomId },
    h('th', { scope: 'row', 'data-label': t('ops.colRoom') }, roomId, h('span', { class: 'room-giveaway small', 'data-cell': 'giveaway', 'data-testid': `giveaway-${roomId}`, hidden: true }), h('span', { class: 'room-auction small', 'data-cell': 'auction', 'data-testid': `auction-${roomId}`, hidden: true })),
    metric(t('studio.viewers'), 'members', true),
    nodes,
    metric(t('ops.colMsgs'), 'msgs', true),
    metric(t('ops.colLevel'), 'level', true),
    metric(t('ops.colQueue'), 'queue', true),
    metric(t('ops.colRate'), 'rate'),
    metric(t('ops.colRejected'), 'rejected', true),
    metric(t('ops.colP99'), 'p99'),
    h(
      'td',
      { 'data-label': t('ops.colControls'), class: 'controls' },
      h('div', { class: 'row' }, select, h('button', { type: 'button', 'aria-label': t('ops.applyTo', { room: roomId }), 'data-testid': `apply-level-${roomId}`, onclick: apply }, t('ops.apply'))),
      h(
        'div',
        { class: 'row' },
        limit,
        h('button', { type: 'button', 'aria-label': t('ops.setLimitOf', { room: roomId }), 'data-testid': `set-limit-${roomId}`, onclick: setLimit }, t('ops.setLimit')),
        h('button', { type: 'button', class: 'link', 'aria-label': t('ops.defaultFor', { room: roomId }), onclick: () => sendLimit(null) }, t('ops.default')),
      ),
      h('button', { type: 'button', class: 'link', 'aria-label': t('ops.moderateRoom', { room: roomId }), onclick: () => joinRoom(token, roomId) }, t('ops.moderate')),
    ),
  );
}

// ------------------------------------------------------------------ moderation

function wireModeration(token: string): void {
  el.modRoomForm.addEventListener('submit', (event) => {
    event.preventDefault();
    joinRoom(token, el.modRoom.value.trim());
  });
  el.modUserForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const action = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.dataset.action ?? 'mute';
    const userId = el.modUser.value.trim();
    if (userId) moderate(action as 'mute' | 'unmute' | 'kick', userId, userId);
  });
}

function joinRoom(token: string, roomId: string): void {
  if (!roomId) return;
  moderated?.close();
  el.modRoom.value = roomId;
  el.modComments.replaceChildren();
  const client = connect({ url: wsUrl(), token, room: roomId });
  moderated = client;
  trackConnection(client, el.modConn);
  client.on('welcome', (welcome) => {
    if (welcome.resumed) return;
    el.modComments.replaceChildren();
    for (const c of client.state.comments.slice(-MAX_COMMENTS_SHOWN)) appendComment(client, c);
  });
  client.on('comment', (c) => appendComment(client, c));
  client.on('commentDeleted', (e) => el.modComments.querySelector(`[data-seq="${e.commentSeq}"]`)?.remove());
  client.on('userMuted', () => {
    for (const li of Array.from(el.modComments.querySelectorAll<HTMLElement>('li[data-user]'))) li.classList.toggle('from-muted', client.state.muted.has(li.dataset.user!));
  });
  client.ready.then(
    () => {
      show(el.modPanel, true);
      say(el.status, t('ops.joined', { room: roomId }), 'ok');
    },
    (error: unknown) => say(el.status, t('ops.joinFailed', { room: roomId, why: errorText(error) }), 'error'),
  );
}

function appendComment(client: LivecartClient, c: HistoryComment): void {
  if (client !== moderated) return;
  const mine = c.userId === client.state.you?.userId;
  const li = h(
    'li',
    { 'data-seq': c.seq, 'data-user': c.userId, class: client.state.muted.has(c.userId) ? 'from-muted' : undefined },
    h('span', { class: 'who' }, c.name),
    ' ',
    h('span', { class: 'text' }, c.text),
    mine
      ? null
      : h(
          'span',
          { class: 'actions' },
          h('button', { type: 'button', class: 'link', 'aria-label': t('mod.muteLabel', { name: c.name }), onclick: () => moderate('mute', c.userId, c.name) }, t('mod.mute')),
          h('button', { type: 'button', class: 'link danger-link', 'aria-label': t('ops.kickLabel', { name: c.name }), onclick: () => moderate('kick', c.userId, c.name) }, t('ops.kick')),
          h('button', { type: 'button', class: 'link', 'aria-label': t('ops.useId', { name: c.name }), onclick: () => { el.modUser.value = c.userId; el.modUser.focus(); } }, 'Id'),
        ),
  );
  el.modComments.append(li);
  while (el.modComments.childElementCount > MAX_COMMENTS_SHOWN) el.modComments.firstElementChild?.remove();
  el.modComments.scrollTop = el.modComments.scrollHeight;
}

function moderate(action: 'mute' | 'unmute' | 'kick', userId: string, name: string): void {
  const client = moderated;
  if (!client) {
    say(el.status, t('ops.joinFirst'), 'error');
    return;
  }
  const done = (text: string) => say(el.status, text, 'ok');
  const failed = (error: unknown) => say(el.status, t(action === 'kick' ? 'mod.removeFailed' : action === 'mute' ? 'mod.muteFailed' : 'mod.unmuteFailed', { name, why: errorText(error) }), 'error');
  if (action === 'kick') client.kick(userId).then(({ closed }) => done(tn('ops.kicked', closed, { name })), failed);
  else if (action === 'mute') client.mute(userId).then(() => done(t('mod.muted', { name })), failed);
  else client.unmute(userId).then(() => done(t('mod.unmuted', { name })), failed);
}

// ------------------------------------------------------------------ start (last: everything above is initialized)

startI18n();
if (!token) {
  fatal(t('ops.needsToken'), t('ops.needsTokenDetail'));
} else {
  pollTimer = setInterval(() => void poll(token), POLL_MS);
  void poll(token);
  wireModeration(token);
  const room = params.get('room');
  if (room) joinRoom(token, room);
}
