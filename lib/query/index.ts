/** instance-query's engine: reads and changes on every Instance's own database, in parallel. */
export * from './engine';
export * from './entities';
export * from './operations';
export * from './status';
export { TimeoutError } from './deadline';
