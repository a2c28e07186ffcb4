export * from './codes.ts';
export * from './messages.ts';
export * from './codec.ts';
