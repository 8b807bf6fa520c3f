/** event-pull's engine: Instance events copied into the Command Center exactly once. */
export { EventPuller } from './puller';
export { EVENT_PULL_DEFAULTS } from './options';
export type { EventPullOptions, PullMode } from './options';
export type * from './types';
export { CommandCenterSide, CheckpointMoved, EMPTY_CHECKPOINT } from './command-center';
export type { BatchWrite, Checkpoint, CommitHooks } from './command-center';
export { InstanceSide } from './instance-side';
export type { EventState, Row } from './instance-side';
