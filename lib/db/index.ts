/** MySQL pieces shared by the database nodes: pools and the instance registry. */
export * from './pool';
export * from './registry';
