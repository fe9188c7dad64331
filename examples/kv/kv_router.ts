/**
 * {@linkcode KvRouter}: the service's front. Clients request it; it forwards
 * each request to the shard owning the key and relays the shard's reply.
 *
 * @module
 */
import { type Context, type Fields, type Infer, type MessageType, on } from "../../mod.ts";
import { SHARDS } from "./actor_names.ts";
import { KvDelete, KvGet, KvPut, KvResult } from "./messages.ts";
import { shardOf } from "./store_hash.ts";

/** How long the router waits for a shard, in ms. */
export const SHARD_TIMEOUT_MS = 5_000;

/**
 * Forwards `KvGet`, `KvPut` and `KvDelete` to the owning shard by request
 * and replies with the shard's `KvResult`. A reply can only be given while
 * the request is being handled, so the router awaits the shard: it relays
 * one request at a time, in arrival order.
 */
export class KvRouter {
  /** Handlers of the three requests. */
  readonly handlers = [
    on(KvGet, (m, ctx) => this.#relay(ctx, KvGet, m, m.key)),
    on(KvPut, (m, ctx) => this.#relay(ctx, KvPut, m, m.key)),
    on(KvDelete, (m, ctx) => this.#relay(ctx, KvDelete, m, m.key)),
  ];

  async #relay<F extends Fields>(
    ctx: Context,
    type: MessageType<F>,
    message: Readonly<Infer<F>>,
    key: string,
  ): Promise<void> {
    const shard = SHARDS[shardOf(key, SHARDS.length)]!;
    let result;
    try {
      result = await ctx.request(shard, type, message, {
        reply: KvResult,
        timeoutMs: SHARD_TIMEOUT_MS,
      });
    } catch (error) {
      // The client learns it as a failed request (no reply); the router goes on.
      ctx.log.warn(`${shard} did not answer a ${type.name}`, { key, error });
      return;
    }
    ctx.reply(KvResult, result);
  }
}
