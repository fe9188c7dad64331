/**
 * The logger links and listeners report to. Library code never prints: the
 * composition root passes a logger (the CLI's, a test's collector, …).
 *
 * @module
 */

import type { LogFields, Logger } from "../logger.ts";

export type { LogFields } from "../logger.ts";

/**
 * Where transports report what happened: the part of the project's
 * {@linkcode Logger} they use, so the logger of a bus (or any `Logger`) can be
 * passed as it is. `error`: something failed (a link closed with an error, a
 * peer was refused); `warn`: something recovered or was dropped (reconnects,
 * policy drops); `info`: lifecycle events (link opened, listener started).
 */
export type TransportLogger = Pick<Logger, "error" | "warn" | "info">;

/**
 * A logger that writes `warn` and `error` as JSON lines to stderr and ignores
 * `info`, for callers that want transport trouble on stderr without a logger
 * of their own: pass it as `logger` (links and listeners are silent by default).
 *
 * @example
 * ```ts
 * import { stderrLogger } from "./logger.ts";
 * stderrLogger.info("ignored");
 * ```
 */
export const stderrLogger: TransportLogger = Object.freeze({
  error: (message: string, fields?: LogFields) => writeLine("error", message, fields),
  warn: (message: string, fields?: LogFields) => writeLine("warn", message, fields),
  info: () => {},
});

/**
 * A logger that keeps nothing: the default of links and listeners (the buses
 * likewise default to `NULL_LOGGER`). A plain object, so it can be spread
 * into a fuller logger.
 */
export const silentLogger: TransportLogger = Object.freeze({
  error: () => {},
  warn: () => {},
  info: () => {},
});

const encoder = new TextEncoder();

function writeLine(level: string, message: string, fields: LogFields | undefined): void {
  const line = JSON.stringify(
    { level, message, ...fields },
    (_k, v) =>
      typeof v === "bigint"
        ? v.toString()
        : v instanceof Error
        ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code }
        : v,
  );
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nowhere left to report.
  }
}
