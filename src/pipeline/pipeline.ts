/**
 * Runs the whole reference pipeline on one MessageBus (the monolith
 * deployment) and sums up what happened.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { MessageBus, type ShutdownReport } from "../bus/mod.ts";
import type { AuditSink } from "./actors.ts";
import type { LedgerSummary } from "./ledger.ts";
import { type ActorSummary, PipelineCast, type SwapSupplyOptions } from "./pipeline_cast.ts";

export type { ActorSummary, SwapSupplyOptions } from "./pipeline_cast.ts";
export type { LedgerSummary } from "./ledger.ts";

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions extends SwapSupplyOptions {
  /** Where the audit trail writes. */
  audit: AuditSink;
  /** Round-trip every message through the codec, as a split deployment would. Default: false. */
  faithful?: boolean;
  /** Where the runtime logs. Default: nowhere. */
  logger?: Logger;
  /** Stops the run early (the summary then shows what was in flight). */
  signal?: AbortSignal;
  /** How long shutdown may drain mailboxes, in ms. Default: 5000. */
  drainMs?: number;
}

/** What a run did. Everything but latencies and time is the same for the same inputs. */
export interface PipelineSummary {
  readonly swaps: number;
  readonly signals: number;
  readonly fills: number;
  readonly refused: number;
  readonly pnlMicro: bigint;
  readonly halted: boolean;
  readonly exposureMicro: bigint;
  readonly auditLines: number;
  /**
   * The audit trail's account of every signal: each booked once, repeats
   * (a signal handled twice after a restart) counted, lost ones named.
   */
  readonly ledger: LedgerSummary;
  /**
   * Ids the risk manager approved but never saw an execution for: their
   * exposure stays reserved. Empty unless executions were lost.
   */
  readonly approvedUnbooked: readonly bigint[];
  /** Set when a split run restarted process groups: what the restarts cost. */
  readonly recovery?: RecoveryReport;
  /** Whether the end of the stream reached the audit trail (false when stopped early). */
  readonly completed: boolean;
  readonly actors: readonly ActorSummary[];
  readonly shutdown: ShutdownReport;
  readonly elapsedMs: number;
}

/** What restarting process groups cost a split run. */
export interface RecoveryReport {
  /** Restarts per group that restarted. */
  readonly restarts: Readonly<Record<string, number>>;
  /**
   * Actors whose state the run cannot rebuild and that restarted with their
   * group: the collector (it starts the stream again), the strategy (it
   * numbers signals again), the risk manager and the audit trail (their
   * books and ledger start empty). When any did, the figures and the
   * ledger cover only their last run. Empty when only the executor (whose
   * figures the ledger keeps), the relay or the metrics restarted.
   */
  readonly stateLost: readonly string[];
  /**
   * Whether fills, refusals and P&L come from the audit trail's ledger,
   * because the executor's own counters restarted with its process.
   */
  readonly figuresFromLedger: boolean;
  /**
   * Replies that reached no pending request, summed over every link: mostly
   * answers meant for a process that died, resent to its successor and
   * ignored.
   */
  readonly unmatchedReplies: number;
}

/** Runs the pipeline in this process until the stream ends (or `signal` aborts). */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const started = performance.now();
  const bus = new MessageBus({
    faithful: options.faithful ?? false,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  let completed = false;
  const { promise: ended, resolve: end } = Promise.withResolvers<void>();
  const cast = new PipelineCast({
    ...options,
    onEnd: () => {
      completed = true;
      end();
    },
  });
  // In cast order, the producer last: everything downstream exists before the first swap.
  for (const name of cast.actors.keys()) cast.spawn(bus, name);
  const onAbort = () => end();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await ended;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  const shutdown = await bus.close({ deadlineMs: options.drainMs ?? 5_000 });
  return {
    swaps: cast.collector.sent,
    signals: cast.strategy.detector.signals,
    fills: cast.executor.fills,
    refused: cast.executor.refused,
    pnlMicro: cast.executor.pnlMicro,
    halted: cast.risk.book.halted,
    exposureMicro: cast.risk.book.exposureMicro,
    auditLines: cast.audit.lines,
    ledger: cast.audit.ledger.summary(),
    approvedUnbooked: cast.risk.book.approvedUnbooked(),
    completed,
    actors: cast.summaries(),
    shutdown,
    elapsedMs: performance.now() - started,
  };
}
