/**
 * The base of every error Mycelium throws.
 *
 * Callers branch on {@linkcode MyceliumError.code}, never on the message text.
 * Each concept has its own subclass (`CodecError`, …) whose codes start with
 * the concept's prefix (`CODEC_`, `BUS_`, `TRANSPORT_`, `TOPOLOGY_`, …).
 *
 * @module
 */

/** Options shared by every Mycelium error. */
export interface MyceliumErrorOptions {
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/**
 * Base class of all Mycelium errors: a stable string `code` plus a message for
 * people.
 *
 * @example
 * ```ts
 * import { MyceliumError } from "./mycelium_error.ts";
 * const err = new MyceliumError("BUS_NO_ROUTE", "no actor named 'x'");
 * if (err.code !== "BUS_NO_ROUTE") throw new Error("unreachable");
 * ```
 */
export class MyceliumError extends Error {
  /** Stable, machine-readable identifier of the failure. */
  readonly code: string;

  /** Creates an error with a code and a message. */
  constructor(code: string, message: string, options: MyceliumErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}
