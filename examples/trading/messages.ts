/**
 * Message types of the reference trading pipeline, laid out as the original
 * design notes declare them (amounts are 256-bit integers kept as 32 raw
 * little-endian bytes, exactly as on the wire).
 *
 * @module
 */
import { defineMessage, field, type MessageOf } from "../../mod.ts";

/** A Uniswap-V2-style swap seen on a pool: 132 bytes of fixed fields. */
export const V2Swap = defineMessage({
  id: 19,
  name: "V2Swap",
  topic: "market_data",
  fields: {
    poolAddress: field.bytes(20),
    token0: field.bytes(20),
    token1: field.bytes(20),
    amountIn: field.bytes(32),
    amountOut: field.bytes(32),
    timestampNs: field.u64(),
  },
});
/** A swap message. */
export type V2Swap = MessageOf<typeof V2Swap>;

/** A price gap worth trading: 148 bytes of fixed fields. */
export const ArbitrageSignal = defineMessage({
  id: 20,
  name: "ArbitrageSignal",
  topic: "arbitrage",
  fields: {
    opportunityId: field.u64(),
    path: field.bytes(100),
    estimatedProfit: field.bytes(32),
    deadlineBlock: field.u64(),
  },
});
/** An arbitrage signal message. */
export type ArbitrageSignal = MessageOf<typeof ArbitrageSignal>;

/** The executor's result for one signal. */
export const OrderExecution = defineMessage({
  id: 21,
  name: "OrderExecution",
  topic: "executions",
  fields: {
    opportunityId: field.u64(),
    filled: field.bool(),
    /** Share of the order filled, in basis points (0 when not filled). */
    fillBps: field.u16(),
    /** Notional traded, in micro-units of the quote token. */
    notionalMicro: field.u64(),
    /** Profit or loss after costs, in micro-units of the quote token. */
    pnlMicro: field.i64(),
    /** Why an order was not filled: "" when filled, else e.g. "risk: halted". */
    reason: field.string(),
  },
});
/** An order execution message. */
export type OrderExecution = MessageOf<typeof OrderExecution>;

/** The executor asks the risk manager before trading (request/reply). */
export const RiskCheck = defineMessage({
  id: 22,
  name: "RiskCheck",
  topic: "risk",
  fields: { opportunityId: field.u64(), notionalMicro: field.u64() },
});
/** A risk check request. */
export type RiskCheck = MessageOf<typeof RiskCheck>;

/** The risk manager's answer to a {@linkcode RiskCheck}. */
export const RiskVerdict = defineMessage({
  id: 23,
  name: "RiskVerdict",
  topic: "risk",
  fields: { opportunityId: field.u64(), approved: field.bool(), halted: field.bool() },
});
/** A risk verdict reply. */
export type RiskVerdict = MessageOf<typeof RiskVerdict>;

/**
 * Sent down the pipeline after the last swap, so every stage knows the run is complete.
 *
 * `signals` is how many signals the strategy sent before the end (the collector sends 0; the
 * strategy fills it in). Opportunity ids are 1..signals, consecutive, because the detector
 * numbers its signals from 1 without gaps: the audit trail's ExecutionLedger (ledger.ts) relies
 * on that to name the signals no execution came for. It is appended after `swaps`, so a reader
 * built before it reads 0.
 */
export const StreamEnd = defineMessage({
  id: 24,
  name: "StreamEnd",
  topic: "control",
  fields: { swaps: field.u64(), signals: field.u64() },
});
/** An end-of-stream marker. */
export type StreamEnd = MessageOf<typeof StreamEnd>;

/** Every message type of the reference pipeline. */
export const PIPELINE_TYPES = [
  V2Swap,
  ArbitrageSignal,
  OrderExecution,
  RiskCheck,
  RiskVerdict,
  StreamEnd,
] as const;
