/** The Tentacle engine: wire-compatible client and server of Pandora FMS's file transfer protocol. */
export * from './protocol';
export * from './errors';
export * from './filters';
export * from './zip';
export { LineReader, LineError } from './line-reader';
export { TentacleClient } from './client';
export type { TentacleClientOptions, TentacleConsumer } from './client';
export { TentacleServer } from './server';
export type { TentacleServerEvents, TentacleEvent, TentacleStats } from './server';
export * from './options';
export { normalizeFingerprint } from './pullers';
