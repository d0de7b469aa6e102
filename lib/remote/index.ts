export { type AwsOptions, RemoteError } from './aws.ts';
export {
  type BackfillProgress,
  type BackfillSlotStatus,
  type BackfillSummary,
  type DispatchStatus,
  type RemoteBackfillOptions,
  type RemoteBackfillSlotResult,
  remoteBackfill,
} from './backfill.ts';
export { type RedriveResult, type RemoteRedriveOptions, remoteRedrive } from './redrive.ts';
export { type RemoteRunsOptions, remoteRuns } from './runs.ts';
export {
  type DeployedStack,
  pascalName,
  type ResolveStackOptions,
  resolveStack,
  STACK_OUTPUTS,
  type StackOutputName,
  stateMachineOutputKey,
} from './stack.ts';
