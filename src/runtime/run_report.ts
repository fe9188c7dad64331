/**
 * What a run reports: each process's part ({@linkcode ProcessReport}) and
 * the whole run ({@linkcode RunReport}, every part merged), plus the JSON
 * form a group process prints for its supervisor.
 *
 * @module
 */
import type { ShutdownReport } from "../bus/_core.ts";
import type { LinkReport } from "./bus_node.ts";
import { RuntimeError } from "./runtime_error.ts";

/**
 * Sampled times from send to handler start of one kind of delivery to an
 * actor (see `DeliveryTiming`), in ns; all 0 when none was sampled.
 */
export interface DeliveryTimes {
  /** Deliveries timed (one in `DeliveryTiming.sampleEvery`). */
  readonly samples: number;
  /** Median. */
  readonly p50Ns: number;
  /** 99th percentile. */
  readonly p99Ns: number;
}

/** Counters and latency of one actor. */
export interface ActorReport {
  /** Its name. */
  readonly name: string;
  /** The process group it ran in. */
  readonly group: string;
  /**
   * How messages reach it: `mailbox`; `direct` (a fixed route's sync target
   * in a run in one process: called inside its sender's send or publish, or
   * through its mailbox when busy, untimed either way); or `direct+mailbox`
   * (such a target in a group of a split run: senders of its group call it
   * directly, untimed, while what comes from other processes, or finds it
   * busy, goes through its mailbox and is timed as `hop`/`queued`; a send by
   * name from another process that finds it idle is called on arrival,
   * untimed).
   */
  readonly delivery: "mailbox" | "direct" | "direct+mailbox";
  /** Messages handled successfully. */
  readonly handled: number;
  /** Messages whose handler threw or rejected. */
  readonly failed: number;
  /** Messages dropped by an overflow policy. */
  readonly dropped: number;
  /** Messages still queued when it stopped. */
  readonly discarded: number;
  /** Restarts by its supervision policy. */
  readonly restarts: number;
  /**
   * Deliveries that found its mailbox empty and the actor idle: send to
   * handler start is what the hop costs. From another process the clock
   * starts when the link hands the message to this process's bus, so
   * encoding, the socket and decoding are not in it. What latency budgets
   * are checked against.
   */
  readonly hop: DeliveryTimes;
  /** Deliveries that waited behind others: the hop plus queueing under load. */
  readonly queued: DeliveryTimes;
}

/** What one process did. */
export interface ProcessReport<Part = unknown> {
  /** Its process group (`"main"` for a monolith). */
  readonly group: string;
  /** Whether it ended as its lifecycle says (a job: done and drained everywhere; a service: stopped and drained). */
  readonly completed: boolean;
  /** Its actors, in the app's declaration order. */
  readonly actors: readonly ActorReport[];
  /** Its bus's shutdown. */
  readonly shutdown: ShutdownReport;
  /** Its links (none in a monolith). */
  readonly links: readonly LinkReport[];
  /** Messages its peers had buffered for it that it held until it was ready (a restarted group). */
  readonly held: number;
  /** Wall time, in ms. */
  readonly elapsedMs: number;
  /** The app's part (see `AppReport.part`). */
  readonly app: Part;
}

/** What restarting process groups cost a run. */
export interface RestartCost {
  /** Restarts per group that restarted. */
  readonly restarts: Readonly<Record<string, number>>;
  /** Stateful actors that restarted with their group: their figures cover their last run only. */
  readonly stateLost: readonly string[];
  /** Peers' reconnections from a restarted group's new instance, summed over links. */
  readonly peerRestarts: number;
  /** Frames written again after reconnects (unacknowledged when the connection broke), summed over links. */
  readonly framesResent: number;
  /** Messages the restarted groups held until they were ready. */
  readonly held: number;
  /** Replies that reached no pending request (meant for a process that died, or late). */
  readonly unmatchedReplies: number;
}

/** A whole run: every process's report merged, and the app's total. */
export interface RunReport<Total = unknown> {
  /** The app's name. */
  readonly name: string;
  /** `monolith`, or the topology's mode of a split run. */
  readonly mode: string;
  /** The process groups, in the order they reported. */
  readonly groups: readonly string[];
  /** Whether every process completed. */
  readonly completed: boolean;
  /** Every actor, in the app's declaration order. */
  readonly actors: readonly ActorReport[];
  /** Every link of every process. */
  readonly links: readonly LinkReport[];
  /** Shutdown counts summed over processes; drained only if every one drained. */
  readonly shutdown: ShutdownReport;
  /** What restarts cost, when groups restarted. */
  readonly restart: RestartCost | undefined;
  /** The longest process's wall time, in ms. */
  readonly elapsedMs: number;
  /** The app's total (see `AppReport.merge`). */
  readonly app: Total;
}

/** A process report as one JSON line (a bigint as `{"$bigint":"123"}`), for a supervisor. */
export function processReportToJson(report: ProcessReport): string {
  return JSON.stringify(report, (_k, v) => typeof v === "bigint" ? { $bigint: `${v}` } : v);
}

function isTaggedBigint(v: unknown): v is { $bigint: string } {
  if (typeof v !== "object" || v === null) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === "$bigint" &&
    typeof (v as { $bigint: unknown }).$bigint === "string";
}

/**
 * Reads what {@linkcode processReportToJson} wrote.
 *
 * @throws {RuntimeError} `RUNTIME_RUN_FAILED` when `text` is not such a report.
 */
export function processReportFromJson(text: string): ProcessReport {
  let value: unknown;
  try {
    value = JSON.parse(
      text,
      (_k, v) => isTaggedBigint(v) && /^-?\d+$/.test(v.$bigint) ? BigInt(v.$bigint) : v,
    );
  } catch (e) {
    throw new RuntimeError("RUNTIME_RUN_FAILED", `a group's report is not JSON: ${text}`, {
      cause: e,
    });
  }
  const s = value as Partial<ProcessReport> | null;
  if (
    s === null || typeof s !== "object" || typeof s.group !== "string" ||
    !Array.isArray(s.actors) || typeof s.completed !== "boolean" || !Array.isArray(s.links)
  ) {
    throw new RuntimeError("RUNTIME_RUN_FAILED", `not a group report: ${text.slice(0, 200)}`);
  }
  return s as ProcessReport;
}

/** Sums a list of numbers picked from each item. */
function sum<T>(items: readonly T[], pick: (t: T) => number): number {
  let n = 0;
  for (const t of items) n += pick(t);
  return n;
}

/**
 * The figures of every process as one run: actors in `order`, shutdown
 * counts summed, restart costs from `restarts` (per group) and the stateful
 * actors those groups hosted.
 */
export function mergeProcessReports(
  parts: readonly ProcessReport[],
  options: {
    order: readonly string[];
    stateful: ReadonlySet<string>;
    restarts?: Readonly<Record<string, number>>;
  },
): Omit<RunReport, "app" | "mode" | "name"> & { readonly stateLost: readonly string[] } {
  const restarts = Object.fromEntries(
    Object.entries(options.restarts ?? {}).filter(([, n]) => n > 0),
  );
  const restarted = parts.filter((p) => (restarts[p.group] ?? 0) > 0);
  const stateLost = restarted.flatMap((p) => p.actors.map((a) => a.name))
    .filter((name) => options.stateful.has(name));
  const byName = new Map(parts.flatMap((p) => p.actors).map((a) => [a.name, a]));
  const links = parts.flatMap((p) => p.links);
  return {
    groups: parts.map((p) => p.group),
    completed: parts.length > 0 && parts.every((p) => p.completed),
    actors: options.order.flatMap((name) => byName.get(name) ?? []),
    links,
    shutdown: {
      drained: parts.every((p) => p.shutdown.drained),
      discarded: sum(parts, (p) => p.shutdown.discarded),
      abandonedRequests: sum(parts, (p) => p.shutdown.abandonedRequests),
    },
    restart: Object.keys(restarts).length === 0 ? undefined : {
      restarts,
      stateLost,
      peerRestarts: sum(links, (l) => l.peerRestarts),
      framesResent: sum(links, (l) => l.resent),
      held: sum(restarted, (p) => p.held),
      unmatchedReplies: sum(links, (l) => l.unmatchedReplies),
    },
    stateLost,
    elapsedMs: Math.max(0, ...parts.map((p) => p.elapsedMs)),
  };
}
