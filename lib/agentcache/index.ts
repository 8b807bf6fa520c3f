export * from './engine';
export * from './errors';
export * from './options';
export * from './types';
export { planColumns, rowChecksumSql } from './columns';
export { differingRanges, planRows, spans, splitPlan } from './planner';
export type { RangeSum, RowPlan } from './planner';
