export * from './gate';
export * from './lease-manager';
export * from './deliveries';
export * from './schema';
