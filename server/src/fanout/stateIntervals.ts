import type { Config } from '../config.ts';

export type StateIntervalConfig = Pick<Config, 'stockIntervalMs' | 'degradedStockIntervalMs' | 'likeIntervalMs'>;

/** How often a room at degrade `level` hears a product's stock: stretched once chatter is off, when every update to a big room costs a socket write per viewer. */
export function stockIntervalMs(config: Pick<StateIntervalConfig, 'stockIntervalMs' | 'degradedStockIntervalMs'>, level: number): number {
  return level >= 2 ? Math.max(config.stockIntervalMs, config.degradedStockIntervalMs) : config.stockIntervalMs;
}

/** How often a room at degrade `level` hears its like total: a degraded room four times less often. */
export function likeIntervalMs(config: Pick<StateIntervalConfig, 'likeIntervalMs'>, level: number): number {
  return level >= 1 ? config.likeIntervalMs * 4 : config.likeIntervalMs;
}
