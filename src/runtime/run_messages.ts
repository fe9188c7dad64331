/**
 * Messages the runtime exchanges to end a split run together. Their ids sit
 * at the top of the user range, which Mycelium reserves (0xFEF0 to 0xFEFF;
 * 0xFEFF is `RequestFailed`).
 *
 * @module
 */
import { defineMessage, field, type MessageOf } from "../codec/mod.ts";

/** Published by the group one of whose actors said a job is done (`env.done()`). */
export const RunComplete = defineMessage({
  id: 0xfefe,
  name: "MyceliumRunComplete",
  topic: "mycelium.run",
  fields: { group: field.string() },
});
/** A run-complete message. */
export type RunComplete = MessageOf<typeof RunComplete>;

/**
 * Published by each group in each round of the end of a job, once its actors
 * are idle: how many messages they had handled. Links keep order, so it
 * follows everything the group sent before; two rounds in a row with the same
 * counts from every group mean nothing was in flight anywhere.
 */
export const GroupDrained = defineMessage({
  id: 0xfefd,
  name: "MyceliumGroupDrained",
  topic: "mycelium.run",
  fields: { group: field.string(), round: field.u32(), handled: field.u64() },
});
/** A group-drained message. */
export type GroupDrained = MessageOf<typeof GroupDrained>;
