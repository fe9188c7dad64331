/**
 * Errors of the runtime (a process's bus joined to others).
 *
 * @module
 */
import { MyceliumError, type MyceliumErrorOptions } from "../mycelium_error.ts";

/** Codes of {@linkcode RuntimeError}. */
export type RuntimeErrorCode =
  /** `ready()` gave up: some actors were still unreachable at the deadline. */
  | "RUNTIME_NOT_READY"
  /** A wait was aborted by its signal, or the node closed meanwhile. */
  | "RUNTIME_ABORTED"
  /** A peer could not be dialed for good (refused handshake: key, version, schema). */
  | "RUNTIME_DIAL_FAILED"
  /** A process group cannot be planned (unknown group, missing address). */
  | "RUNTIME_PLAN"
  /** A group's run failed (a child process, a summary that cannot be read). */
  | "RUNTIME_RUN_FAILED";

/** Options of {@linkcode RuntimeError}. */
export interface RuntimeErrorOptions extends MyceliumErrorOptions {
  /** Actors concerned (e.g. those still unreachable). */
  actors?: readonly string[];
  /** The peer or group concerned. */
  peer?: string;
}

/**
 * A runtime failure, with a stable `code`.
 *
 * @example
 * ```ts
 * import { RuntimeError } from "./runtime_error.ts";
 * const e = new RuntimeError("RUNTIME_NOT_READY", "not reachable: audit_trail", {
 *   actors: ["audit_trail"],
 * });
 * if (e.code !== "RUNTIME_NOT_READY" || e.actors[0] !== "audit_trail") throw e;
 * ```
 */
export class RuntimeError extends MyceliumError {
  /** What went wrong; see {@linkcode RuntimeErrorCode}. */
  declare readonly code: RuntimeErrorCode;
  /** Actors concerned, if any. */
  readonly actors: readonly string[];
  /** The peer or group concerned, if any. */
  readonly peer: string | undefined;

  /** Creates an error. */
  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(code, message, options);
    this.actors = options.actors ?? [];
    this.peer = options.peer;
  }
}
