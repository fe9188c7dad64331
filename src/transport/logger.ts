/**
 * The logger links and listeners report to. Library code never prints: the
 * composition root passes a logger (the CLI's, a test's collector, …).
 *
 * @module
 */

/** Structured details attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where transports report what happened. */
export interface TransportLogger {
  /** Something failed (a link closed with an error, a peer was refused). */
  error(message: string, fields?: LogFields): void;
  /** Something recovered or was dropped (reconnects, policy drops). */
  warn(message: string, fields?: LogFields): void;
  /** Lifecycle events (link opened, listener started). */
  info(message: string, fields?: LogFields): void;
}

/**
 * A logger that writes `warn` and `error` as JSON lines to stderr and ignores
 * `info`. The default when no logger is given.
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
 * A logger that keeps nothing: for benchmarks and callers that observe
 * errors through `onError` instead.
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
