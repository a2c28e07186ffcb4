export * from './codes.ts';
export * from './messages.ts';
export * from './codec.ts';
export type * from './ops.ts';
export * from './media.ts';
export type * from './replay.ts';
export * from './orders.ts';
export * from './TypedEmitter.ts';
export * from './shows.ts';
