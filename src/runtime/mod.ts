/**
 * The runtime of a split deployment: a process's MessageBus joined to the
 * others' over links ({@linkcode BusNode}), what each process group runs
 * ({@linkcode groupPlan}), and the reference pipeline run one group per
 * process ({@linkcode runGroup}, {@linkcode mergeGroupSummaries}).
 *
 * @module
 */
export { BusNode } from "./bus_node.ts";
export type {
  BusNodeCloseOptions,
  BusNodeOptions,
  DialTarget,
  LinkReport,
  LinkTuning,
  ReadyOptions,
} from "./bus_node.ts";
export { groupPlan, transportOf } from "./group_plan.ts";
export type {
  GroupAddress,
  GroupPlan,
  GroupPlanOptions,
  PlannedDial,
  TransportOfOptions,
} from "./group_plan.ts";
export {
  groupSummaryFromJson,
  groupSummaryToJson,
  mergeGroupSummaries,
  pipelineRegistry,
  runGroup,
  runMonitorName,
} from "./run_group.ts";
export type { GroupSummary, RunGroupOptions } from "./run_group.ts";
export { GroupDrained, RunComplete } from "./run_messages.ts";
export { RuntimeError } from "./runtime_error.ts";
export type { RuntimeErrorCode, RuntimeErrorOptions } from "./runtime_error.ts";
