/** What the pipeline tests compare between runs. */
import type { LedgerSummary, PipelineSummary } from "../../src/pipeline/pipeline.ts";

/** The fields of a summary that must not depend on the deployment or on timing. */
export interface DeterministicPart {
  swaps: number;
  signals: number;
  fills: number;
  refused: number;
  pnlMicro: bigint;
  halted: boolean;
  exposureMicro: bigint;
  auditLines: number;
  ledger: LedgerSummary;
  approvedUnbooked: readonly bigint[];
  completed: boolean;
  actors: (string | number)[][];
  discarded: number;
}

/** Everything in a summary that must not depend on the deployment or on timing. */
export function deterministicPart(s: PipelineSummary): DeterministicPart {
  return {
    swaps: s.swaps,
    signals: s.signals,
    fills: s.fills,
    refused: s.refused,
    pnlMicro: s.pnlMicro,
    halted: s.halted,
    exposureMicro: s.exposureMicro,
    auditLines: s.auditLines,
    ledger: s.ledger,
    approvedUnbooked: s.approvedUnbooked,
    completed: s.completed,
    actors: s.actors.map((a) => [a.name, a.handled, a.failed, a.dropped, a.discarded]),
    discarded: s.shutdown.discarded,
  };
}
