/** MySQL pieces shared by the database nodes: pools, the instance registry, the package's DDL. */
export * from './pool';
export * from './registry';
export * from './schema';
