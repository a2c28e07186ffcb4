import { randomBytes } from 'node:crypto';

/**
 * Order ids: `o-ROOM.TOKEN`. The token is random (an id tells nothing about other orders and
 * cannot be guessed); the room lets a store find the order where the room's data lives (one slot
 * of a Redis Cluster). Room ids and tokens never contain '.'.
 */
export function newOrderId(roomId: string): string {
  return `o-${roomId}.${randomBytes(12).toString('base64url')}`;
}

/** The room an order id names, or undefined for a string that is no order id. */
export function roomOfOrder(orderId: string): string | undefined {
  const dot = orderId.indexOf('.');
  if (!orderId.startsWith('o-') || dot < 3 || dot === orderId.length - 1) return undefined;
  return orderId.slice(2, dot);
}
