/** event-pull's engine: Instance events copied into the Command Center exactly once. */
export { EventPuller } from './puller';
export type { EventPullTesting } from './puller';
export {
  EVENT_PULL_CC_CONNECTIONS,
  EVENT_PULL_DEFAULTS,
  EVENT_PULL_PROPERTIES,
  optionsFromProperties,
  resolveOptions,
} from './options';
export type { EventPullOptions, EventPullProps, PullMode } from './options';
export { EventPullError } from './errors';
export type { EventPullCode } from './errors';
export type * from './types';
export { CommandCenterSide } from './command-center';
export type { BatchWrite, BeforeCommit } from './command-center';
export { InstanceSide } from './instance-side';
export { EMPTY_CHECKPOINT } from './model';
export type { Checkpoint, EventState, Row } from './model';
