/** metaconsole-replicate's engine: the Command Center's shared objects kept identical on Instances. */
export * from './engine';
export * from './errors';
export * from './options';
export * from './types';
export type { ReplicatorSeams } from './instance-round';
export { ALL_KINDS, TABLES, chosenTables, parseObjects, tableByName } from './tables';
export type { ObjectKind, TableDef } from './tables';
export { precedence } from './merge';
export type { MergeOptions } from './merge';
export { planDryRun, planPage, roundState } from './queue-planner';
export { checkItem, isNamedOperation } from './queue-items';
