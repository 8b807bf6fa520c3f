/** metaconsole-replicate's engine: the Command Center's shared objects kept identical on Instances. */
export * from './replicator';
export { ALL_KINDS, TABLES, chosenTables, parseObjects, tableByName } from './tables';
export type { ObjectKind, TableDef } from './tables';
export { precedence } from './merge';
export type { MergeOptions } from './merge';
