/**
 * Latencies ("200ns", "2μs", "50µs", "1ms") and throughputs ("20M msg/s") as
 * written in a topology's `performance` section, to and from numbers.
 *
 * @module
 */
import { TopologyError } from "./topology_error.ts";

/** Where a quantity was written, so a bad one can be reported in place. */
export interface QuantityLocation {
  /** File name. Default: `"<value>"`. */
  file?: string;
  /** 1-based line. Default: 0 (no place). */
  line?: number;
  /** 1-based column. Default: 0 (no place). */
  column?: number;
  /** Dotted key path. Default: `""`. */
  path?: string;
}

const NS_PER: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // µ MICRO SIGN
  "\u03bcs": 1e3, // μ GREEK SMALL LETTER MU
  ms: 1e6,
  s: 1e9,
};
const LATENCY = /^(\d+(?:\.\d+)?)\s*(ns|us|\u00b5s|\u03bcs|ms|s)$/;
const THROUGHPUT = /^(\d+(?:\.\d+)?)\s*([kKMG]?)\s*msg\/s$/;
const MULTIPLIER: Readonly<Record<string, number>> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 };

/** The fix printed with a bad latency. */
export const LATENCY_FIX =
  'write a positive number followed by ns, us (or µs), ms or s, e.g. "200ns", "2µs", "1.5ms"';
/** The fix printed with a bad throughput. */
export const THROUGHPUT_FIX =
  'write a positive number, optionally with k, M or G, followed by msg/s, e.g. "20M msg/s", "500k msg/s"';

function fail(value: unknown, what: string, fix: string, where: QuantityLocation): never {
  const shown = typeof value === "string" ? `'${value}'` : JSON.stringify(value) ?? String(value);
  throw new TopologyError([{
    code: "TOPOLOGY_BAD_UNIT",
    file: where.file ?? "<value>",
    line: where.line ?? 0,
    column: where.column ?? 0,
    path: where.path ?? "",
    problem: `${shown} is not ${what}`,
    fix,
  }]);
}

/**
 * Parses a latency into nanoseconds. Accepts ns, us, µs (micro sign), μs
 * (Greek mu), ms and s, with or without a space before the unit. A bare
 * number is refused: the unit is what makes a budget readable.
 *
 * @throws {TopologyError} `TOPOLOGY_BAD_UNIT` with the fix.
 * @example
 * ```ts
 * import { parseLatency } from "./quantity.ts";
 * if (parseLatency("2μs") !== 2000 || parseLatency("1.5 ms") !== 1_500_000) throw new Error();
 * ```
 */
export function parseLatency(value: unknown, where: QuantityLocation = {}): number {
  const m = typeof value === "string" ? LATENCY.exec(value.trim()) : null;
  if (m === null) return fail(value, "a latency", LATENCY_FIX, where);
  const ns = Number(m[1]) * (NS_PER[m[2] ?? ""] ?? Number.NaN);
  if (!(ns > 0) || !Number.isFinite(ns)) {
    return fail(value, "a positive latency", LATENCY_FIX, where);
  }
  return ns;
}

/**
 * Parses a throughput into messages per second: `"20M msg/s"`, `"500k msg/s"`,
 * `"1000 msg/s"`, or a plain YAML number of messages per second.
 *
 * @throws {TopologyError} `TOPOLOGY_BAD_UNIT` with the fix.
 * @example
 * ```ts
 * import { parseThroughput } from "./quantity.ts";
 * if (parseThroughput("20M msg/s") !== 20_000_000) throw new Error();
 * ```
 */
export function parseThroughput(value: unknown, where: QuantityLocation = {}): number {
  let perSecond = Number.NaN;
  if (typeof value === "number") perSecond = value;
  else if (typeof value === "string") {
    const m = THROUGHPUT.exec(value.trim());
    if (m !== null) perSecond = Number(m[1]) * (MULTIPLIER[m[2] ?? ""] ?? Number.NaN);
  }
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
    return fail(value, "a throughput", THROUGHPUT_FIX, where);
  }
  return perSecond;
}

function trim(n: number): string {
  return n >= 100
    ? n.toFixed(0)
    : n >= 10
    ? String(Number(n.toFixed(1)))
    : String(Number(n.toFixed(2)));
}

/**
 * Formats nanoseconds the way a person writes a latency (`"200ns"`, `"2µs"`,
 * `"1.5ms"`), at most three significant figures.
 *
 * @example
 * ```ts
 * import { formatLatency } from "./quantity.ts";
 * if (formatLatency(2500) !== "2.5µs") throw new Error();
 * ```
 */
export function formatLatency(ns: number): string {
  if (ns < 1e3) return `${trim(ns)}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}\u00b5s`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  return `${trim(ns / 1e9)}s`;
}

/**
 * Formats messages per second as `"20M msg/s"`, `"500k msg/s"`.
 *
 * @example
 * ```ts
 * import { formatThroughput } from "./quantity.ts";
 * if (formatThroughput(20_000_000) !== "20M msg/s") throw new Error();
 * ```
 */
export function formatThroughput(perSecond: number): string {
  if (perSecond >= 1e9) return `${trim(perSecond / 1e9)}G msg/s`;
  if (perSecond >= 1e6) return `${trim(perSecond / 1e6)}M msg/s`;
  if (perSecond >= 1e3) return `${trim(perSecond / 1e3)}k msg/s`;
  return `${trim(perSecond)} msg/s`;
}
