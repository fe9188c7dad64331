/**
 * Errors in an application's declaration.
 *
 * @module
 */
import { MyceliumError, type MyceliumErrorOptions } from "../mycelium_error.ts";

/** Codes of {@linkcode AppError}. */
export type AppErrorCode = /** The declaration is inconsistent (names, routes, ids, parameters). */
  "APP_INVALID";

/** Options of {@linkcode AppError}. */
export interface AppErrorOptions extends MyceliumErrorOptions {
  /** How to fix it. */
  fix?: string;
}

/**
 * An application declared wrongly, with a stable `code` and the fix.
 *
 * @example
 * ```ts
 * import { AppError } from "./app_error.ts";
 * const e = new AppError("APP_INVALID", "route Tick: no actor 'x'", { fix: "declare 'x'" });
 * if (e.code !== "APP_INVALID" || e.fix !== "declare 'x'") throw e;
 * ```
 */
export class AppError extends MyceliumError {
  /** What went wrong; see {@linkcode AppErrorCode}. */
  declare readonly code: AppErrorCode;
  /** How to fix it. */
  readonly fix: string | undefined;

  /** Creates an error. */
  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.fix = options.fix;
  }
}
