/** What the trading tests compare between runs. */
import type { RunReport } from "../../../src/runtime/run_report.ts";
import type { TradingSummary } from "../../../examples/trading/report.ts";

/** The fields of a run's report that must not depend on the deployment or on timing. */
export interface DeterministicPart extends Omit<TradingSummary, "auditFile" | "endToEndMs"> {
  /** Whether every process completed (the runtime's view; `completed` is the app's). */
  runCompleted: boolean;
  /** Per actor: name, handled, failed, dropped, discarded, restarts. */
  actors: (string | number)[][];
  /** Messages discarded at shutdown, summed over processes. */
  discarded: number;
}

/**
 * Everything in a run's report that must not depend on the deployment or on
 * timing: the trading total but the audit file's path and the run's duration, and the actors'
 * counters (not their group, delivery or latency).
 */
export function deterministicPart(r: RunReport<TradingSummary>): DeterministicPart {
  const { auditFile: _, endToEndMs: _ms, ...app } = r.app;
  return {
    ...app,
    runCompleted: r.completed,
    actors: r.actors.map((a) => [a.name, a.handled, a.failed, a.dropped, a.discarded, a.restarts]),
    discarded: r.shutdown.discarded,
  };
}
