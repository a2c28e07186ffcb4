import { pino } from 'pino';
import type { Logger } from '../../server/src/log.ts';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A real pino logger whose lines are kept in `lines` (parsed), for tests that assert what was logged. */
export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

/** pino's number for `error`. */
export const ERROR = 50;
