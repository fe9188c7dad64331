/**
 * The small logging interface actors and the runtime write to. Library code
 * never touches `console`: the application decides where records go.
 *
 * @module
 */

/** Severity of a log record, from least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured details attached to a log record. */
export type LogFields = Readonly<Record<string, unknown>>;

/** One log record, as handed to a {@linkcode LogSink}. */
export interface LogRecord {
  /** Severity. */
  readonly level: LogLevel;
  /** Who wrote it: an actor name, or `"bus"` for the runtime. */
  readonly source: string;
  /** Human-readable text. */
  readonly message: string;
  /** Structured details, if any. */
  readonly fields: LogFields | undefined;
}

/** Where log records end up: a function the application supplies. */
export type LogSink = (record: LogRecord) => void;

/**
 * What an actor (or the runtime) logs through.
 *
 * @example
 * ```ts
 * import { sinkLogger, type LogRecord } from "./logger.ts";
 * const records: LogRecord[] = [];
 * const log = sinkLogger((r) => records.push(r)).child("strategy");
 * log.warn("gap too small", { bps: 3 });
 * if (records[0]?.source !== "strategy") throw new Error("unreachable");
 * ```
 */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation worth noting. */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that was handled. */
  warn(message: string, fields?: LogFields): void;
  /** A failure. */
  error(message: string, fields?: LogFields): void;
  /** A logger writing to the same place with another `source`. */
  child(source: string): Logger;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of {@linkcode sinkLogger}. */
export interface SinkLoggerOptions {
  /** Records below this level are discarded. Default: `"debug"` (keep all). */
  level?: LogLevel;
  /** Source of records written by the root logger. Default: `"app"`. */
  source?: string;
}

class SinkLogger implements Logger {
  readonly #sink: LogSink | undefined;
  readonly #min: number;
  readonly #source: string;

  constructor(sink: LogSink | undefined, min: number, source: string) {
    this.#sink = sink;
    this.#min = min;
    this.#source = source;
  }

  #write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.#sink === undefined || LEVEL_RANK[level] < this.#min) return;
    this.#sink({ level, source: this.#source, message, fields });
  }

  debug(message: string, fields?: LogFields): void {
    this.#write("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#write("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#write("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#write("error", message, fields);
  }
  child(source: string): Logger {
    return new SinkLogger(this.#sink, this.#min, source);
  }
}

/**
 * A logger that hands every record at or above `level` to `sink`.
 *
 * @example
 * ```ts
 * import { sinkLogger } from "./logger.ts";
 * let count = 0;
 * const log = sinkLogger(() => count++, { level: "warn" });
 * log.info("ignored");
 * log.error("kept");
 * if (count !== 1) throw new Error("unreachable");
 * ```
 */
export function sinkLogger(sink: LogSink, options: SinkLoggerOptions = {}): Logger {
  return new SinkLogger(sink, LEVEL_RANK[options.level ?? "debug"], options.source ?? "app");
}

/**
 * The default logger: discards everything.
 *
 * @example
 * ```ts
 * import { NULL_LOGGER } from "./logger.ts";
 * NULL_LOGGER.child("x").error("goes nowhere");
 * ```
 */
export const NULL_LOGGER: Logger = new SinkLogger(undefined, 0, "app");
