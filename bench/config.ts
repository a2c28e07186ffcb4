/** Command-line options of the fan-out bench. */
import { parseArgs } from 'node:util';
import type { ServerKind } from './servers.ts';

export interface FanoutConfig {
  viewers: number;
  rate: number;
  seconds: number;
  runs: number;
  warmup: number;
  perGenerator: number;
  /** Decode 1 measured frame in K per viewer for latency; 0 = pick K for ~200k samples per run. */
  sample: number;
  drain: number;
  drainIdle: number;
  servers: ServerKind[];
  port: number;
  host: string;
  serverCore: string;
  loadCore: string;
  srcIps: boolean;
  /** Viewers ack their last seq once a second, like the SDK. */
  acks: boolean;
  /** Keep livecart's load shedding (degrade levels, lag demotion) instead of turning it off. */
  livecartShedding: boolean;
  /** Poll livecart's operator API during the measurement for the room's degrade signals. */
  opsPoll: boolean;
  /** Niceness for the server and generator processes (negative = ahead of other work on the machine). */
  nice: number;
  concurrency: number;
  rawMaxBackpressure: number;
  livecartArgs: string[];
  secret: string;
  out: string;
}

const HELP = `Usage: npm run bench:fanout -- [options]

  --viewers N              viewers in the room (default 5000)
  --rate R                 streamer comments per second (default 200); plus one pin per second
  --seconds D              measured sending time (default 10)
  --runs K                 runs per server, alternating livecart/raw; medians are quoted (default 3)
  --warmup W               warm-up seconds at the same rate before each measurement (default 3)
  --per-generator M        viewers per load-generator process (default 2500)
  --sample K               decode 1 frame in K per viewer for latency (default: auto, ~200k samples)
  --drain S                wait at most S seconds after the last send for frames to arrive (default 30)
  --drain-idle S           ... or stop after S seconds without a new frame (default 5)
  --servers LIST           livecart,raw | livecart | raw (default livecart,raw)
  --port P                 first port; each server start uses the next one (default 9400)
  --server-core C          CPU list for the server under test (default 0)
  --load-core C            CPU list for the generators and this orchestrator (default 1)
  --src-ips                give each generator its own source address 127.0.x.y (automatic above
                           20,000 viewers; bind-before-connect makes joining ~2x slower)
  --nice=N                 scheduling priority of the bench (this process, its session's autogroup,
                           the servers and generators), e.g. --nice=-10 on a machine shared with
                           other work (default 0: no change)
  --concurrency N          WebSocket handshakes in flight per generator (default 100)
  --raw-max-backpressure B uWS maxBackpressure of the raw baseline, bytes (default 4194304,
                           livecart's default hardBufferBytes)
  --livecart-arg=ARG       extra argument for livecart's serve command (repeatable), e.g.
                           --livecart-arg=--soft-buffer-bytes=524288
  --livecart-shedding      keep livecart's load shedding (degrade levels, ack-lag demotion); by default
                           the bench raises those thresholds to their maximum so both servers must
                           deliver every frame and the throughputs compare
  --ops-poll               poll livecart's GET /api/ops/rooms every 250 ms while measuring and report
                           the room's fan-out lag (p50/p90/max) and event-loop delay the server saw
  --no-acks                viewers do not send the SDK's once-a-second \`ack\`
  --out DIR                where to write fanout-<timestamp>.json (default bench/results)
`;

export function parseConfig(argv: string[]): FanoutConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      viewers: { type: 'string', default: '5000' },
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '3' },
      'per-generator': { type: 'string', default: '2500' },
      sample: { type: 'string', default: '0' },
      drain: { type: 'string', default: '30' },
      'drain-idle': { type: 'string', default: '5' },
      servers: { type: 'string', default: 'livecart,raw' },
      port: { type: 'string', default: '9400' },
      host: { type: 'string', default: '127.0.0.1' },
      'server-core': { type: 'string', default: '0' },
      'load-core': { type: 'string', default: '1' },
      'src-ips': { type: 'boolean', default: false },
      'no-acks': { type: 'boolean', default: false },
      'livecart-shedding': { type: 'boolean', default: false },
      'ops-poll': { type: 'boolean', default: false },
      nice: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '100' },
      'raw-max-backpressure': { type: 'string', default: String(4 * 1024 * 1024) },
      'livecart-arg': { type: 'string', multiple: true, default: [] },
      secret: { type: 'string', default: 'livecart-bench-secret-0123456789abcdef' },
      out: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${v}`);
    return n;
  };
  const servers = values.servers!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of servers) if (s !== 'livecart' && s !== 'raw') throw new Error(`--servers: unknown server ${s}`);
  return {
    viewers: Math.floor(num('viewers', values.viewers, 1)),
    rate: num('rate', values.rate, 0.1),
    seconds: num('seconds', values.seconds, 1),
    runs: Math.floor(num('runs', values.runs, 1)),
    warmup: num('warmup', values.warmup, 0),
    perGenerator: Math.floor(num('per-generator', values['per-generator'], 1)),
    sample: Math.floor(num('sample', values.sample, 0)),
    drain: num('drain', values.drain, 1),
    drainIdle: num('drain-idle', values['drain-idle'], 0.5),
    servers: servers as ServerKind[],
    port: Math.floor(num('port', values.port, 1)),
    host: values.host!,
    serverCore: values['server-core']!,
    loadCore: values['load-core']!,
    srcIps: values['src-ips']! || Number(values.viewers) > 20_000,
    acks: !values['no-acks'],
    livecartShedding: values['livecart-shedding']!,
    opsPoll: values['ops-poll']!,
    nice: Math.floor(Number(values.nice) || 0),
    concurrency: Math.floor(num('concurrency', values.concurrency, 1)),
    rawMaxBackpressure: Math.floor(num('raw-max-backpressure', values['raw-max-backpressure'], 1024)),
    livecartArgs: values['livecart-arg']!,
    secret: values.secret!,
    out: values.out!,
  };
}
