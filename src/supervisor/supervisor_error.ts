/**
 * The error the process supervisor fails with.
 *
 * @module
 */
import { MyceliumError } from "../mycelium_error.ts";

/** The ways supervising child processes can fail, one code per class. */
export type SupervisorErrorCode =
  /** A child kept exiting unexpectedly: more restarts than the policy allows within its window. */
  | "SUPERVISOR_CHILD_FAILED"
  /** A child could not be started at all (executable missing, no `--allow-run`, …). */
  | "SUPERVISOR_SPAWN"
  /** The children given are unusable: no child, an empty or repeated name, no command. */
  | "SUPERVISOR_INVALID_CHILD"
  /** An option is out of range (a negative delay, a jitter above 1, …). */
  | "SUPERVISOR_INVALID_OPTIONS"
  /** This program cannot be started again from itself (e.g. it runs from `deno eval`). */
  | "SUPERVISOR_SELF_COMMAND";

/** Options of {@linkcode SupervisorError}. */
export interface SupervisorErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The child concerned, if the error is about one. */
  child?: string;
  /** The child's last exit code, when it exited on its own; `null` when a signal ended it. */
  exitCode?: number | null;
  /** The signal that ended the child's last run, if any. */
  exitSignal?: Deno.Signal | null;
  /** How many times the child was restarted within the policy's window before giving up. */
  restarts?: number;
  /** What the child said last on stderr in its last run (piped output only): see `SupervisorError.lastOutput`. */
  lastOutput?: string;
}

/**
 * A failure of the {@linkcode Supervisor} (or of building its children's
 * command lines), with the child it concerns and how that child last ended.
 *
 * @example
 * ```ts
 * import { SupervisorError } from "./supervisor_error.ts";
 * const err = new SupervisorError("SUPERVISOR_CHILD_FAILED", "group 'execution' keeps crashing", {
 *   child: "execution", exitCode: 1, restarts: 5,
 * });
 * if (err.code !== "SUPERVISOR_CHILD_FAILED" || err.child !== "execution") throw new Error();
 * ```
 */
export class SupervisorError extends MyceliumError {
  /** The class of failure. */
  declare readonly code: SupervisorErrorCode;
  /** The child concerned, or `undefined` when the error is about the whole set. */
  readonly child: string | undefined;
  /** The child's last exit code (`null`: ended by a signal; `undefined`: it never ran). */
  readonly exitCode: number | null | undefined;
  /** The signal that ended the child's last run, if any. */
  readonly exitSignal: Deno.Signal | null | undefined;
  /** Restarts within the window before the supervisor gave up (`undefined` when not relevant). */
  readonly restarts: number | undefined;
  /**
   * The last line the child wrote to stderr before it last exited, usually
   * why it failed; when that line is a stack frame (`    at …`), the error
   * line of the trace instead (Deno's `error: Uncaught …`, or the line above
   * the frames), colour codes removed (`undefined`: none, or its output was
   * not piped).
   */
  readonly lastOutput: string | undefined;

  /** Creates a supervisor error with a code, a message and the child's facts. */
  constructor(code: SupervisorErrorCode, message: string, options: SupervisorErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.child = options.child;
    this.exitCode = options.exitCode;
    this.exitSignal = options.exitSignal;
    this.restarts = options.restarts;
    this.lastOutput = options.lastOutput;
  }
}
