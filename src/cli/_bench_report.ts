/**
 * What `mycelium bench` measured, and how it is printed: the per-transport
 * table and the seeds-style comparison table.
 *
 * @module
 */
import { formatTable } from "./format_table.ts";

/** Where a measured path runs. */
export type BenchPlace = "in process" | "unix" | "tcp" | "nats";

/** One measured figure set. `null` marks what a row does not measure. */
export interface BenchRow {
  /** Stable identifier, e.g. `"unix-link-rtt"`. */
  readonly id: string;
  /** Where it runs. */
  readonly place: BenchPlace;
  /** What was measured, for people. */
  readonly what: string;
  /** Median, in ns: of a round trip, or of the cost per message (in-process rows). */
  readonly p50Ns: number | null;
  /** 99th percentile, in ns, of the same samples as `p50Ns`. */
  readonly p99Ns: number | null;
  /** Messages per second. */
  readonly msgPerSec: number | null;
  /** Samples behind `p50Ns`/`p99Ns`, or messages behind `msgPerSec`. */
  readonly samples: number;
  /** Whether this row is a floor: the same work done by hand, the least it can cost. */
  readonly isFloor: boolean;
  /** `id` of the floor this row is compared with; `null` for a floor or a row without one. */
  readonly floor: string | null;
  /**
   * This row's cost divided by its floor's cost, both measured in this run:
   * p50 over p50 when both have one, else the floor's msg/s over this row's.
   */
  readonly floorRatio: number | null;
}

/** A row of the comparison table: round-trip p50 per deployment level, in ns. */
export interface ComparisonRow {
  /** The messaging system. */
  readonly system: string;
  /** Both ends in one process; `null` when the system has no such mode. */
  readonly sameProcessNs: number | null;
  /** Two processes on this machine. */
  readonly sameMachineNs: number | null;
  /** Over TCP (loopback here: one machine). */
  readonly networkNs: number | null;
}

/** Everything one `mycelium bench` run measured. */
export interface BenchReport {
  /** When the run started (ISO 8601). */
  readonly measuredAt: string;
  /** The machine and runtime. */
  readonly machine: {
    readonly os: string;
    readonly arch: string;
    readonly cpus: number;
    readonly deno: string;
  };
  /** The sizes the run used. */
  readonly options: {
    readonly quick: boolean;
    readonly messages: number;
    readonly roundTrips: number;
  };
  /** Every measured row, floors included. */
  readonly rows: readonly BenchRow[];
  /** The seeds-style table: each cell a measured round-trip p50. */
  readonly comparison: {
    readonly measure: string;
    readonly rows: readonly ComparisonRow[];
    readonly notes: readonly string[];
  };
  /** How long the whole run took, in ms. */
  readonly elapsedMs: number;
  /** What the peer process wrote to stderr, when it wrote anything. */
  readonly peerStderr?: string;
}

/** The note printed with every report: what the figures are and are not. */
export const BENCH_CAVEAT =
  "Figures are this machine's, measured now; the machine may be shared with other work, " +
  "so trust the ratios measured within one run more than the absolute times.";

/**
 * A row from its figures, with its floor ratio computed from `floor` (a row
 * of the same run).
 *
 * @example
 * ```ts
 * import { benchRow } from "./_bench_report.ts";
 * const floor = benchRow({ id: "f", place: "unix", what: "raw", p50Ns: 10, p99Ns: 20, samples: 1 });
 * const row = benchRow({ id: "r", place: "unix", what: "link", p50Ns: 30, p99Ns: 40, samples: 1 }, floor);
 * if (row.floorRatio !== 3 || row.floor !== "f") throw new Error();
 * ```
 */
export function benchRow(
  figures: {
    id: string;
    place: BenchPlace;
    what: string;
    p50Ns?: number;
    p99Ns?: number;
    msgPerSec?: number;
    samples: number;
    isFloor?: boolean;
  },
  floor?: BenchRow,
): BenchRow {
  const p50Ns = figures.p50Ns ?? null;
  const msgPerSec = figures.msgPerSec ?? null;
  let floorRatio: number | null = null;
  if (floor !== undefined) {
    if (p50Ns !== null && floor.p50Ns !== null) floorRatio = p50Ns / floor.p50Ns;
    else if (msgPerSec !== null && floor.msgPerSec !== null) {
      floorRatio = floor.msgPerSec / msgPerSec;
    }
  }
  return {
    id: figures.id,
    place: figures.place,
    what: figures.what,
    p50Ns,
    p99Ns: figures.p99Ns ?? null,
    msgPerSec,
    samples: figures.samples,
    isFloor: figures.isFloor ?? false,
    floor: floor?.id ?? null,
    floorRatio,
  };
}

/**
 * A duration for people: `850 ns`, `2.3 µs`, `41 µs`, `1.20 ms`.
 *
 * @example
 * ```ts
 * import { formatNs } from "./_bench_report.ts";
 * if (formatNs(2345) !== "2.3 µs" || formatNs(7.25) !== "7.3 ns") throw new Error();
 * ```
 */
export function formatNs(ns: number): string {
  if (ns < 10) return `${ns.toFixed(1)} ns`;
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 10_000) return `${(ns / 1000).toFixed(1)} µs`;
  if (ns < 1_000_000) return `${(ns / 1000).toFixed(0)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/**
 * A rate for people: `950 k`, `1.25 M`.
 *
 * @example
 * ```ts
 * import { formatRate } from "./_bench_report.ts";
 * if (formatRate(1_250_000) !== "1.25 M" || formatRate(950) !== "950") throw new Error();
 * ```
 */
export function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M`;
  if (perSec >= 1e4) return `${(perSec / 1e3).toFixed(0)} k`;
  return perSec.toFixed(0);
}

const dash = "—";

/** The per-transport table, the comparison table and their notes, as text. */
export function formatBenchReport(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [
    `mycelium bench: cost per transport on this machine (${m.os} ${m.arch}, ${m.cpus} CPUs, ` +
    `Deno ${m.deno}), ${report.measuredAt}, ${(report.elapsedMs / 1000).toFixed(1)} s` +
    (report.options.quick ? ", --quick" : ""),
    `${report.options.messages} messages per stream, ${report.options.roundTrips} round trips per latency row; ` +
    "peers of unix and tcp rows run in a separate process.",
    "",
    "Per transport (p50/p99: a round trip, or the cost per message for rows marked 'per'; " +
    "x floor: cost over the floor's, same run)",
  ];
  const table: string[][] = [["where", "what", "p50", "p99", "msg/s", "x floor"]];
  for (const r of report.rows) {
    table.push([
      r.place,
      r.what,
      r.p50Ns === null ? dash : formatNs(r.p50Ns),
      r.p99Ns === null ? dash : formatNs(r.p99Ns),
      r.msgPerSec === null ? dash : formatRate(r.msgPerSec),
      r.isFloor ? "floor" : r.floorRatio === null ? dash : `${r.floorRatio.toFixed(2)}x`,
    ]);
  }
  lines.push(formatTable(table), "");
  lines.push(`Performance comparison (${report.comparison.measure})`);
  const cell = (ns: number | null) => ns === null ? "n/a" : formatNs(ns);
  lines.push(formatTable([
    ["", "Same process", "Same machine", "Network"],
    ...report.comparison.rows.map((
      r,
    ) => [r.system, cell(r.sameProcessNs), cell(r.sameMachineNs), cell(r.networkNs)]),
  ]));
  for (const note of report.comparison.notes) lines.push(`  ${note}`);
  lines.push("", BENCH_CAVEAT);
  return lines.join("\n");
}
