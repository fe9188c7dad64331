/**
 * {@linkcode KvShard}: one shard of the store, a map from keys to values.
 *
 * @module
 */
import { type Context, on } from "../../mod.ts";
import { DigestRequest, KvDelete, KvGet, KvPut, KvResult, ShardDigest } from "./messages.ts";
import { storeChecksum } from "./store_hash.ts";

/** What a shard reports. */
export interface ShardFigures {
  /** The shard's name. */
  readonly name: string;
  /** Keys it holds. */
  readonly keys: number;
  /** Checksum of its contents (see `store_hash.ts`). */
  readonly checksum: bigint;
  /** Reads handled. */
  readonly gets: number;
  /** Reads that found the key. */
  readonly found: number;
  /** Writes handled. */
  readonly puts: number;
  /** Removals handled. */
  readonly deletes: number;
}

/**
 * Holds the keys the router sends it. Every request replies with what the
 * key held before (`found: false` when nothing).
 */
export class KvShard {
  readonly #name: string;
  readonly #store = new Map<string, string>();
  #gets = 0;
  #found = 0;
  #puts = 0;
  #deletes = 0;

  /** Handlers of the three requests and of the digest request. */
  readonly handlers = [
    on(KvGet, (m, ctx) => {
      this.#gets++;
      const value = this.#store.get(m.key);
      if (value !== undefined) this.#found++;
      this.#reply(ctx, value);
    }),
    on(KvPut, (m, ctx) => {
      this.#puts++;
      const before = this.#store.get(m.key);
      this.#store.set(m.key, m.value);
      this.#reply(ctx, before);
    }),
    on(KvDelete, (m, ctx) => {
      this.#deletes++;
      const before = this.#store.get(m.key);
      this.#store.delete(m.key);
      this.#reply(ctx, before);
    }),
    on(DigestRequest, (_m, ctx) => {
      ctx.reply(ShardDigest, { keys: this.#store.size, checksum: storeChecksum(this.#store) });
    }),
  ];

  /** A shard named `name` (for its report). */
  constructor(name: string) {
    this.#name = name;
  }

  #reply(ctx: Context, value: string | undefined): void {
    ctx.reply(KvResult, { found: value !== undefined, value: value ?? "" });
  }

  /** Its figures now. */
  figures(): ShardFigures {
    return {
      name: this.#name,
      keys: this.#store.size,
      checksum: storeChecksum(this.#store),
      gets: this.#gets,
      found: this.#found,
      puts: this.#puts,
      deletes: this.#deletes,
    };
  }
}
