/**
 * The audit trail's record format: one line per signal and per execution,
 * the same bytes whatever the deployment.
 *
 * @module
 */
import { bytesToU256, toHex } from "./amounts.ts";
import { readPath } from "./arbitrage.ts";
import type { ArbitrageSignal, OrderExecution } from "./messages.ts";

/** The audit line of a signal. */
export function signalLine(signal: Readonly<ArbitrageSignal>): string {
  const p = readPath(signal.path);
  return `signal ${signal.opportunityId} buy=${toHex(p.buyPool)} sell=${toHex(p.sellPool)} ` +
    `gap_bps=${p.gapBps} est_profit_micro=${bytesToU256(signal.estimatedProfit)} ` +
    `deadline_block=${signal.deadlineBlock}\n`;
}

/** The audit line of an execution. */
export function executionLine(execution: Readonly<OrderExecution>): string {
  return `exec ${execution.opportunityId} filled=${execution.filled} fill_bps=${execution.fillBps} ` +
    `notional_micro=${execution.notionalMicro} pnl_micro=${execution.pnlMicro}` +
    (execution.reason === "" ? "" : ` reason="${execution.reason}"`) + "\n";
}

/**
 * The audit line of a signal or execution that came again for an id already
 * seen (at-least-once delivery after a restart): the audit file still records
 * it, marked so that nobody counts it twice, e.g. `repeat exec 57 filled=true …`.
 */
export function repeatLine(line: string): string {
  return `repeat ${line}`;
}
