export * from './errors';
export * from './gate';
export * from './gates';
export * from './lease-manager';
export * from './options';
export * from './planner';
export * from './deliveries';
export * from './schema';
