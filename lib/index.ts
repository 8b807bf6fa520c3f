/** The engine of node-red-contrib-pandora-sync, usable without Node-RED. */
export * from './tls/generate';
export * from './tentacle';
