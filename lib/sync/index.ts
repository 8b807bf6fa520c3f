/** The Sync server: pulling agent files from remote Tentacle buffers into `incomingdir`. */
export * from './names';
export * from './journal';
export * from './incoming';
export * from './puller';
