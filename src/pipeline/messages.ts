/**
 * Message types of the reference trading pipeline, laid out as the original
 * design notes declare them (amounts are 256-bit integers kept as 32 raw
 * little-endian bytes, exactly as on the wire).
 *
 * @module
 */
import { defineMessage, field, type MessageOf } from "../codec/mod.ts";

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
