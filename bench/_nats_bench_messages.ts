/**
 * The message `nats_bench.ts` and its peer processes share beside V2Swap.
 *
 * @module
 */
import { defineMessage, field } from "../src/codec/mod.ts";

/** A subscriber process saw `n` more swaps. */
export const Done = defineMessage({
  id: 3001,
  name: "BenchDone",
  fields: { n: field.u32() },
});
