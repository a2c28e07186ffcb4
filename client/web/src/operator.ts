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
import { api, ApiError, byId, errorText, fatal, formatNumber, h, params, say, setText, show, trackConnection, wsUrl } from './common.ts';
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

const levelNames = ['Normal', 'Comments sampled', 'Chatter off', 'Commerce only'];

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
    setText(el.updated, `Updated ${new Date().toLocaleTimeString()}`);
    if (el.status.dataset.kind === 'error' && el.status.dataset.source === 'poll') say(el.status, '');
  } catch (error) {
    el.status.dataset.source = 'poll';
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) say(el.status, `The operator token was refused: ${error.message}`, 'error');
    else say(el.status, `Cannot reach the server: ${errorText(error)}`, 'error');
  } finally {
    polling = false;
  }
}

// ------------------------------------------------------------------ nodes

/** Every node of the cluster, this console's first; a node without a recent heartbeat is marked down. */
function renderNodes(answer: OpsNodes & Registry): void {
  show(el.registryStatus, answer.registry !== 'ok');
  setText(el.registryStatus, answer.registry === 'ok' ? '' : 'The node registry cannot be read (is Redis away?): only this node is shown.');
  const seen = new Set<string>();
  for (const node of answer.nodes) {
    seen.add(node.nodeId);
    const row = el.nodeRows.querySelector<HTMLTableRowElement>(`tr[data-node="${CSS.escape(node.nodeId)}"]`) ?? buildNodeRow(node);
    el.nodeRows.append(row); // keep the answer's order
    const cell = (name: string) => row.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
    row.dataset.state = node.down ? 'down' : node.draining ? 'draining' : 'up';
    setText(cell('state'), node.down ? 'Down' : node.draining ? 'Draining' : 'Up');
    setText(cell('age'), `${formatNumber(node.heartbeatAgeMs / 1000, 1)} s ago`);
    setText(cell('sockets'), formatNumber(node.sockets));
    const degraded = node.load.roomsByLevel[1] + node.load.roomsByLevel[2] + node.load.roomsByLevel[3];
    setText(cell('rooms'), formatNumber(node.rooms.length + node.roomsOmitted));
    setText(cell('rooms-detail'), degraded > 0 ? `${formatNumber(degraded)} degraded` : '');
    setText(cell('load'), `${formatNumber(node.load.eventLoopDelayMs, 1)} ms loop · ${formatNumber(node.load.cpuPercent)}% CPU · ${formatNumber(node.load.rssMb)} MB`);
    const notes = [node.load.overloaded ? 'refusing connections' : '', node.load.admissionInFlight === null ? 'admission off' : `${formatNumber(node.load.admissionInFlight)} store calls under way`];
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
      { scope: 'row', 'data-label': 'Node' },
      h('span', { class: 'block' }, id, node.self ? h('span', { class: 'muted small' }, ' (this console)') : null),
      h('a', { href: node.url, class: 'muted small block node-url' }, node.url),
    ),
    value('State', 'state'),
    value('Heartbeat', 'age'),
    value('Sockets', 'sockets'),
    value('Rooms', 'rooms', true),
    value('Load', 'load', true),
  );
}

// ------------------------------------------------------------------ this node

function renderNode(node: NodeHealth, self: NodeStatus | undefined): void {
  if (self) setText(el.nodeTitle, `This node's health (${self.nodeId})`);

  nodeHistory.eventLoop.push(node.eventLoopDelayMs.p99);
  nodeHistory.rss.push(node.rssMb);
  nodeHistory.connections.push(node.connections.connectionsOpen);
  const protection = node.protection.overloaded ? `Refusing new connections (${node.protection.reason ?? 'overloaded'})` : 'Accepting connections';
  const tiles: Array<[string, string, SVGSVGElement | null, boolean?]> = [
    ['Event-loop delay p99', `${formatNumber(node.eventLoopDelayMs.p99, 1)} ms (max ${formatNumber(node.eventLoopDelayMs.max, 1)})`, sparkline(nodeHistory.eventLoop.values, { label: 'Event-loop delay p99, last 5 minutes', minMax: 20, format: (v) => `${formatNumber(v, 1)} ms` })],
    ['Memory (RSS)', `${formatNumber(node.rssMb)} MB`, sparkline(nodeHistory.rss.values, { label: 'Memory, last 5 minutes', minMax: 64, format: (v) => `${formatNumber(v)} MB` })],
    ['Open connections', formatNumber(node.connections.connectionsOpen), sparkline(nodeHistory.connections.values, { label: 'Open connections, last 5 minutes', format: (v) => formatNumber(v) })],
    ['Protection', `${protection} · ${formatNumber(node.protection.refusedConnections)} refused`, null, node.protection.overloaded],
    ['Store concurrency', node.admission ? `limit ${node.admission.concurrencyLimit}, ${node.admission.inFlight} in flight` : 'admission off', null],
    ['Hosted rooms', formatNumber(node.hostedRooms), null],
    ['Event order kept here', `${formatNumber(node.sequencer.leasesHeld)} rooms · ${formatNumber(node.sequencer.sequencedLocally)} events · ${formatNumber(node.sequencer.resets)} resets`, null, node.sequencer.resets > 0],
    ['Video', videoSummary(node.media), null, !node.media.available],
    ['Frames sent', `${formatNumber(node.connections.framesSent)} (${formatNumber(node.connections.bytesSent / 1e6, 1)} MB)`, null],
    ['Slow-consumer closes', formatNumber(node.connections.slowConsumerCloses), null],
    ['Chatter sampled / dropped', `${formatNumber(node.fanout.chatterSampled)} / ${formatNumber(node.fanout.chatterDropped)}`, null],
  ];
  el.node.replaceChildren(
    ...tiles.map(([label, value, chart, alarm]) => h('div', { class: alarm ? 'tile alarm' : 'tile' }, h('p', { class: 'tile-label' }, label), h('p', { class: 'tile-value' }, value), chart)),
  );
}

/** Workers (consumers, CPU share of a core), live streams and viewers' tracks, or why there is no video. */
function videoSummary(media: NodeHealth['media']): string {
  if (!media.available) return `Unavailable: ${media.reason ?? 'no media worker'}`;
  const workers = media.workers.map((w) => `#${w.index} ${formatNumber(w.consumers)} consumers, ${formatNumber(w.cpu * 100)}% CPU`).join(' · ');
  const deaths = media.workerDeaths > 0 ? ` · ${formatNumber(media.workerDeaths)} worker restarts` : '';
  return `${formatNumber(media.producers)} tracks live, ${formatNumber(media.consumers)} consumers, ${formatNumber(media.bitrateOutBps / 1e6, 1)} Mbit/s out · ${workers}${deaths}`;
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
    setText(cell('members-value'), formatNumber(room.viewers));
    setText(cell('members-detail'), `${formatNumber(room.sockets)} socket${room.sockets === 1 ? '' : 's'}`);
    sparkline(history.viewers.values, { label: `Viewers of ${room.roomId} over every node, last 5 minutes`, format: (v) => formatNumber(v) }, chart('members-chart'));
    renderRoomNodes(cell('nodes-value'), room);
    setText(cell('msgs-value'), local ? `${formatNumber(inRate, 1)} / ${formatNumber(outRate, 0)}` : '—');
    setText(cell('msgs-detail'), local ? 'in / out per second here' : 'not on this node');
    sparkline(history.outRate.values, { label: `Messages out per second in ${room.roomId} on this node, last 5 minutes`, format: (v) => formatNumber(v) }, chart('msgs-chart'));
    setText(cell('level-value'), `${level} · ${levelNames[level] ?? ''}`);
    setText(cell('level-reason'), room.settings.degradeOverride !== null ? 'fixed by an operator on every node' : local ? local.reason : 'judged by each node');
    sparkline(history.level.values, { label: `Degrade level of ${room.roomId}, last 5 minutes`, max: 3 }, chart('level-chart'));
    const limit = adm?.queueLimit ?? room.settings.queueLimit;
    setText(cell('queue-value'), adm ? `${formatNumber(adm.queued)} / ${formatNumber(adm.queueLimit)}` : limit === null ? '—' : `limit ${formatNumber(limit)}`);
    const queueNotes = [adm ? `${adm.inFlight} in flight` : local ? 'no cart requests here yet' : 'not on this node', room.settings.queueLimit === null ? '' : 'limit set for every node'];
    setText(cell('queue-detail'), queueNotes.filter(Boolean).join(' · '));
    sparkline(history.queued.values, { label: `Queue depth of ${room.roomId} on this node, last 5 minutes`, format: (v) => formatNumber(v) }, chart('queue-chart'));
    setText(cell('rate-value'), adm ? `${formatNumber(admitRate, 1)}/s` : '—');
    sparkline(history.admitRate.values, { label: `Admit rate of ${room.roomId} on this node, last 5 minutes`, format: (v) => `${formatNumber(v, 1)} per second` }, chart('rate-chart'));
    setText(cell('rejected-value'), adm ? formatNumber(rejected) : '—');
    setText(cell('rejected-detail'), adm ? `${formatNumber(adm.expired)} timed out · ${formatNumber(adm.soldOutFast)} sold-out fast` : '');
    sparkline(history.rejectRate.values, { label: `Rejections per second in ${room.roomId} on this node, last 5 minutes`, format: (v) => formatNumber(v, 1) }, chart('rejected-chart'));
    setText(cell('p99-value'), local ? `${formatNumber(adm?.storeLatencyMs.p99 ?? local.signals.storeLatencyMs, 1)} ms` : '—');
    sparkline(history.storeP99.values, { label: `Store latency p99 of ${room.roomId} on this node, last 5 minutes`, minMax: 5, format: (v) => `${formatNumber(v, 1)} ms` }, chart('p99-chart'));
    const select = cell('level-select') as HTMLSelectElement;
    if (document.activeElement !== select && select.dataset.dirty !== '1') select.value = room.settings.degradeOverride === null ? 'auto' : String(room.settings.degradeOverride);
    const limitInput = cell('limit-input') as HTMLInputElement;
    if (document.activeElement !== limitInput && limitInput.value === '') limitInput.placeholder = limit === null ? 'default' : String(limit);
  }
  for (const row of Array.from(el.roomRows.querySelectorAll<HTMLTableRowElement>('tr[data-room]'))) {
    if (!seen.has(row.dataset.room!)) row.remove();
  }
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
        ` ${formatNumber(n.viewers)} viewer${n.viewers === 1 ? '' : 's'} · level ${n.level}`,
        n.down ? h('span', { class: 'badge down-badge' }, 'down') : null,
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
  const svg = () => sparkline([], { label: 'no data yet' });
  const metric = (label: string, name: string, detail = false) =>
    h('td', { 'data-label': label }, h('span', { class: 'metric', 'data-cell': `${name}-value`, 'data-testid': `${name}-${roomId}` }), detail ? h('span', { class: 'muted small block', 'data-cell': `${name === 'level' ? 'level-reason' : `${name}-detail`}` }) : null, h('span', { 'data-cell': `${name}-chart` }, svg()));

  const nodes = h('td', { 'data-label': 'Nodes' }, h('ul', { class: 'room-nodes', 'data-cell': 'nodes-value', 'data-testid': `nodes-${roomId}`, 'aria-label': `Nodes hosting ${roomId}` }));
  const select = h(
    'select',
    { 'data-cell': 'level-select', 'aria-label': `Degrade level for ${roomId}`, 'data-testid': `level-select-${roomId}` },
    h('option', { value: 'auto' }, 'Automatic'),
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
        say(el.status, level === null ? `${roomId}: degrade level is automatic again on every node.` : `${roomId}: degrade level fixed at ${level} (${levelNames[level]}) on every node.`, 'ok');
        void poll(token);
      },
      (error: unknown) => say(el.status, `${roomId}: could not set the level: ${errorText(error)}`, 'error'),
    );
  };
  const limit = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', 'data-cell': 'limit-input', 'aria-label': `Queue limit for ${roomId}`, 'data-testid': `limit-input-${roomId}` });
  /** `null`: back to each node's default limit. */
  const sendLimit = (queueLimit: number | null) => {
    api(`/api/ops/rooms/${encodeURIComponent(roomId)}/limits`, { method: 'PUT', token, body: { queueLimit } }).then(
      () => {
        limit.value = '';
        say(el.status, queueLimit === null ? `${roomId}: queue limit back to each node's default.` : `${roomId}: queue limit set to ${queueLimit} on every node.`, 'ok');
        void poll(token);
      },
      (error: unknown) => say(el.status, `${roomId}: could not set the queue limit: ${errorText(error)}`, 'error'),
    );
  };
  const setLimit = () => {
    const queueLimit = Number(limit.value);
    if (limit.value === '' || !Number.isInteger(queueLimit) || queueLimit < 0) {
      say(el.status, 'Queue limit: a whole number.', 'error');
      return;
    }
    sendLimit(queueLimit);
  };
  return h(
    'tr',
    { 'data-room': roomId },
    h('th', { scope: 'row', 'data-label': 'Room' }, roomId),
    metric('Viewers', 'members', true),
    nodes,
    metric('Messages/s', 'msgs', true),
    metric('Level', 'level', true),
    metric('Queue', 'queue', true),
    metric('Admit rate', 'rate'),
    metric('Rejected', 'rejected', true),
    metric('Store p99', 'p99'),
    h(
      'td',
      { 'data-label': 'Controls', class: 'controls' },
      h('div', { class: 'row' }, select, h('button', { type: 'button', 'aria-label': `Apply degrade level to ${roomId}`, 'data-testid': `apply-level-${roomId}`, onclick: apply }, 'Apply')),
      h(
        'div',
        { class: 'row' },
        limit,
        h('button', { type: 'button', 'aria-label': `Set queue limit of ${roomId}`, 'data-testid': `set-limit-${roomId}`, onclick: setLimit }, 'Set limit'),
        h('button', { type: 'button', class: 'link', 'aria-label': `Default queue limit for ${roomId}`, onclick: () => sendLimit(null) }, 'Default'),
      ),
      h('button', { type: 'button', class: 'link', 'aria-label': `Moderate ${roomId}`, onclick: () => joinRoom(token, roomId) }, 'Moderate'),
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
      say(el.status, `Joined ${roomId} as operator.`, 'ok');
    },
    (error: unknown) => say(el.status, `Cannot join ${roomId}: ${errorText(error)}`, 'error'),
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
          h('button', { type: 'button', class: 'link', 'aria-label': `Mute ${c.name}`, onclick: () => moderate('mute', c.userId, c.name) }, 'Mute'),
          h('button', { type: 'button', class: 'link danger-link', 'aria-label': `Kick ${c.name}`, onclick: () => moderate('kick', c.userId, c.name) }, 'Kick'),
          h('button', { type: 'button', class: 'link', 'aria-label': `Use the id of ${c.name}`, onclick: () => { el.modUser.value = c.userId; el.modUser.focus(); } }, 'Id'),
        ),
  );
  el.modComments.append(li);
  while (el.modComments.childElementCount > MAX_COMMENTS_SHOWN) el.modComments.firstElementChild?.remove();
  el.modComments.scrollTop = el.modComments.scrollHeight;
}

function moderate(action: 'mute' | 'unmute' | 'kick', userId: string, name: string): void {
  const client = moderated;
  if (!client) {
    say(el.status, 'Join a room first.', 'error');
    return;
  }
  const done = (text: string) => say(el.status, text, 'ok');
  const failed = (error: unknown) => say(el.status, `Could not ${action} ${name}: ${errorText(error)}`, 'error');
  if (action === 'kick') client.kick(userId).then(({ closed }) => done(`${name} was removed (${closed} connection${closed === 1 ? '' : 's'} closed).`), failed);
  else if (action === 'mute') client.mute(userId).then(() => done(`${name} is muted.`), failed);
  else client.unmute(userId).then(() => done(`${name} may comment again.`), failed);
}

// ------------------------------------------------------------------ start (last: everything above is initialized)

if (!token) {
  fatal('This page needs an operator token.', 'Open it as /operator?token=… (in dev mode the server prints one when it starts).');
} else {
  void poll(token);
  setInterval(() => void poll(token), POLL_MS);
  wireModeration(token);
  const room = params.get('room');
  if (room) joinRoom(token, room);
}
