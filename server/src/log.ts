import { pino, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import type { Config } from './config.ts';

export type { Logger };

/**
 * `pretty`: one readable line per entry, for a person at a terminal. `json`: one JSON object per line
 * (pino's format), for log collectors.
 */
export type LogFormat = 'pretty' | 'json';

/**
 * Pretty when stdout is a terminal (development: `npm start`, `npm run dev`), JSON whenever it is
 * not: a pipe, a file, systemd's journal, a container's log driver, which is how production runs.
 */
function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? 'pretty' : 'json';
}

/** Structured logs on stdout; constant messages, variables in fields. */
export function createLogger(config: Pick<Config, 'logLevel'>, format: LogFormat = defaultLogFormat()): Logger {
  const options = { level: config.logLevel, base: { app: 'livecart' } };
  if (format === 'json') return pino(options);
  // Synchronous, like pino's own stdout: the entries written just before process.exit() are not lost.
  return pino(options, prettyStream({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'app' }));
}
