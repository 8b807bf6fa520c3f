/**
 * The engine of node-red-contrib-pandora-sync, usable without Node-RED. The Tentacle, Sync, conf,
 * TLS and database pieces are exported flat; the two replication engines as namespaces, since
 * both speak of instances in their own terms.
 */
export * from './tentacle';
export * from './sync';
export * from './conf';
// tentacle-buffer's and tentacle-pull's property parsers share a name inside their engines; at
// the top level each is named for its node, and the bare name is tentacle-buffer's.
export { optionsFromProperties } from './tentacle';
export { optionsFromProperties as tentacleBufferOptionsFromProperties } from './tentacle';
export { optionsFromProperties as tentaclePullOptionsFromProperties } from './sync';
export * from './tls/generate';
export * from './tls/material';
export * from './db';
export * as events from './events';
export * as replicate from './replicate';
export * as query from './query';
export * as cluster from './cluster';
export * as agentcache from './agentcache';
