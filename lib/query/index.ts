/** instance-query's engine: reads and changes on every Instance's own database, in parallel. */
export * from './engine';
export * from './entities';
export * from './errors';
export * from './operations';
export * from './options';
export * from './status';
export { TimeoutError } from './deadline';
export { RegistryError, type RegistryCode } from '../db/errors';
