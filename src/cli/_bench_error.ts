/**
 * The error `mycelium bench` fails with.
 *
 * @module
 */
import { MyceliumError } from "../mycelium_error.ts";

/** The ways a benchmark run can fail, one code per class. */
export type BenchErrorCode =
  /** This process lacks a permission the bench needs (run, net, write). */
  | "BENCH_PERMISSION"
  /** The peer process could not be started, did not get ready, or exited mid-run. */
  | "BENCH_PEER"
  /** A measurement waited longer than its deadline (a stuck peer or socket). */
  | "BENCH_TIMEOUT"
  /** The run was interrupted (SIGINT/SIGTERM). */
  | "BENCH_INTERRUPTED";

/** Options of {@linkcode BenchError}. */
export interface BenchErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The measurement that was running (e.g. `"unix round trip"`). Default: `""`. */
  stage?: string;
}

/**
 * A failed benchmark run, with the measurement it stopped in.
 *
 * @example
 * ```ts
 * import { BenchError } from "./_bench_error.ts";
 * const err = new BenchError("BENCH_PEER", "peer exited with code 1", { stage: "unix stream" });
 * if (err.code !== "BENCH_PEER" || err.stage !== "unix stream") throw new Error();
 * ```
 */
export class BenchError extends MyceliumError {
  /** The class of failure. */
  declare readonly code: BenchErrorCode;
  /** The measurement that was running, `""` when none was. */
  readonly stage: string;

  /** Creates the error. */
  constructor(code: BenchErrorCode, message: string, options: BenchErrorOptions = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.stage = options.stage ?? "";
  }
}
