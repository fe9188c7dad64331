/**
 * The runtime of a split deployment: a process's MessageBus joined to the
 * others' over links ({@linkcode BusNode}), what each process group runs
 * ({@linkcode groupPlan}), and any app run as a topology places it, in one
 * process or one group per process ({@linkcode runProcess}), with its report.
 *
 * @module
 */
export { BusNode } from "./bus_node.ts";
export type {
  BusNodeCloseOptions,
  BusNodeNats,
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
export { appRegistry, runMonitorName, runProcess } from "./run_process.ts";
export type { RunProcessOptions } from "./run_process.ts";
export { mergeProcessReports, processReportFromJson, processReportToJson } from "./run_report.ts";
export type {
  ActorReport,
  DeliveryTimes,
  ProcessReport,
  RestartCost,
  RunReport,
} from "./run_report.ts";
export { GroupDrained, RunComplete } from "./run_messages.ts";
export { RuntimeError } from "./runtime_error.ts";
export type { RuntimeErrorCode, RuntimeErrorOptions } from "./runtime_error.ts";
