/**
 * The process supervisor: one child process per process group, all started
 * from this same program ({@linkcode selfCommand}), restarted with backoff
 * when they crash, and drained on SIGINT/SIGTERM ({@linkcode onShutdownSignals}).
 *
 * ```ts
 * import { Supervisor } from "./mod.ts";
 * const events: string[] = [];
 * const supervisor = new Supervisor(
 *   [{ name: "once", command: Deno.execPath(), args: ["eval", "Deno.exit(0)"] }],
 *   { onEvent: (event) => events.push(event.type) },
 * );
 * const outcome = await supervisor.done();
 * if (outcome.reason !== "completed" || !events.includes("completed")) throw new Error();
 * ```
 *
 * @module
 */
export {
  currentRuntime,
  PERMISSION_KINDS,
  permissionFlags,
  type PermissionKind,
  type SelfCommand,
  selfCommand,
  type SelfCommandOptions,
  type SelfRuntime,
} from "./self_command.ts";
export {
  onShutdownSignals,
  type ShutdownReason,
  type ShutdownSignal,
  type ShutdownSignals,
  type ShutdownSignalsOptions,
} from "./shutdown_signals.ts";
export {
  type ChildOutputLine,
  type ChildSummary,
  type ProcessRestartPolicy,
  type SupervisedChild,
  Supervisor,
  type SupervisorCloseOptions,
  type SupervisorOptions,
  type SupervisorOutcome,
} from "./supervisor.ts";
export {
  SupervisorError,
  type SupervisorErrorCode,
  type SupervisorErrorOptions,
} from "./supervisor_error.ts";
export {
  type ChildCompletedEvent,
  type ChildExitedEvent,
  type ChildGaveUpEvent,
  type ChildRestartingEvent,
  type ChildStartedEvent,
  type ChildStoppingEvent,
  formatSupervisorEvent,
  type SupervisorEvent,
  type SupervisorFinishedEvent,
} from "./supervisor_event.ts";
