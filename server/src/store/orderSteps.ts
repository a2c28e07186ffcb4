import { type Order, type OrderStatus, orderTransitions } from '../../../protocol/src/index.ts';
import { DomainError } from '../DomainError.ts';
import type { OrderChange } from './Store.ts';

/**
 * The order status machine as the stores apply it: the memory store runs `stepOrder`, the Redis
 * scripts embed `luaOrderTransitions` (both from `orderTransitions`), and both answer conflicts with
 * `statusConflict`'s words.
 */

/** An order as stored before orders had a status (placed, never changed since): read as placed at its creation. */
export function withStatus(order: Order): Order {
  if (order.status !== undefined && Array.isArray(order.history) && order.history.length > 0) return order;
  return { ...order, status: 'placed', history: [{ status: 'placed', at: order.createdAt }] };
}

/** The order after `change`, or undefined when it reached that status before (nothing to do). Throws ORDER_STATUS_CONFLICT for an illegal step. */
export function stepOrder(order: Order, change: OrderChange): Order | undefined {
  if (order.status === change.status || order.history.some((step) => step.status === change.status)) return undefined;
  if (!orderTransitions[order.status].includes(change.status)) throw statusConflict(order.id, order.status, change.status);
  const step = change.note === undefined ? { status: change.status, at: change.at } : { status: change.status, at: change.at, note: change.note };
  const next: Order = { ...order, status: change.status, history: [...order.history, step] };
  if (change.status === 'paid') next.payment = change.payment ?? { demo: false };
  return next;
}

export function statusConflict(orderId: string, from: OrderStatus, to: OrderStatus): DomainError {
  const allowed = orderTransitions[from];
  const next = allowed.length === 0 ? 'it is final' : `from ${from} it may go to ${allowed.join(' or ')}`;
  return new DomainError('ORDER_STATUS_CONFLICT', `order ${orderId} is ${from} and cannot become ${to}: ${next}`);
}

/** `orderTransitions` as a Lua table literal: `{ placed = { paid = true, cancelled = true }, … }`. */
export function luaOrderTransitions(): string {
  const rows = Object.entries(orderTransitions).map(([from, to]) => `${from} = { ${to.map((status) => `${status} = true`).join(', ')} }`);
  return `{ ${rows.join(', ')} }`;
}
