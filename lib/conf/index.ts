/** pandora_server.conf: parsing, merging with node properties, sync_address endpoints. */
export * from './pandora-conf';
