/** The Sync server: pulling agent files from remote Tentacle buffers into `incomingdir`. */
export * from './names';
export * from './journal';
export * from './incoming';
export * from './errors';
export * from './options';
export * from './types';
export * from './addresses';
export * from './puller';
