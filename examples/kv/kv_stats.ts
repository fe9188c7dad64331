/**
 * {@linkcode KvStats}: tallies what the client actors report and, once
 * every one of them finished, checks the store against their models and
 * announces it.
 *
 * @module
 */
import { type Context, on } from "../../mod.ts";
import { CLIENTS, SHARDS } from "./actor_names.ts";
import { ClientDone, DigestRequest, ShardDigest } from "./messages.ts";
import { addChecksums, checksumHex } from "./store_hash.ts";

/** The client actors' figures summed. */
export interface ClientTally {
  /** Simulated clients. */
  readonly sessions: number;
  /** Requests sent. */
  readonly requests: number;
  /** Replies received. */
  readonly replies: number;
  /** Replies that differ from the clients' models. */
  readonly mismatches: number;
  /** Requests that failed. */
  readonly errors: number;
  /** Keys the clients' models hold. */
  readonly modelKeys: number;
  /** Checksum of the clients' models. */
  readonly modelChecksum: bigint;
}

/** The store as the shards described it once every client finished. */
export interface StoreDigest {
  /** Keys in every shard. */
  readonly keys: number;
  /** Checksum of every shard's contents. */
  readonly checksum: bigint;
}

/** What the stats actor reports. */
export interface StatsFigures {
  /** Client actors that finished. */
  readonly finished: number;
  /** Client actors there are. */
  readonly expected: number;
  /** The finished ones' figures. */
  readonly tally: ClientTally;
  /** The store once all finished (absent before). */
  readonly store?: StoreDigest;
}

/** The message a log record and the announced line start with once every client finished. */
export const FINISHED = "every client finished";

/** The announced line: what the clients saw, and whether the store agrees with them. */
export function finishedLine(tally: ClientTally, store: StoreDigest): string {
  const agrees = store.keys === tally.modelKeys && store.checksum === tally.modelChecksum;
  return `${FINISHED}: ${tally.sessions} clients, ${tally.requests} requests, ` +
    `${tally.replies} replies, ${tally.mismatches} mismatches, ${tally.errors} errors; ` +
    `store ${store.keys} keys, checksum ${checksumHex(store.checksum)}, ` +
    (agrees ? "agrees with the clients' models" : "DISAGREES with the clients' models");
}

/** Tallies `ClientDone`; when every client actor sent one, digests the shards and announces. */
export class KvStats {
  readonly #done = new Map<string, ClientDone>();
  readonly #announce: (line: string) => void;
  #store: StoreDigest | undefined;

  /** Handler of the client actors' reports. */
  readonly handlers = [on(ClientDone, (m, ctx) => this.#onDone(m, ctx))];

  /** Tells `announce` the finished line once. */
  constructor(announce: (line: string) => void) {
    this.#announce = announce;
  }

  async #onDone(done: Readonly<ClientDone>, ctx: Context): Promise<void> {
    this.#done.set(done.client, { ...done });
    if (this.#done.size < CLIENTS.length || this.#store !== undefined) return;
    let digests: Readonly<{ keys: number; checksum: bigint }>[];
    try {
      digests = await Promise.all(
        SHARDS.map((shard) => ctx.request(shard, DigestRequest, {}, { reply: ShardDigest })),
      );
    } catch (error) {
      ctx.log.warn("a shard did not give its digest", { error });
      return;
    }
    const store: StoreDigest = {
      keys: digests.reduce((n, d) => n + d.keys, 0),
      checksum: addChecksums(digests.map((d) => d.checksum)),
    };
    this.#store = store;
    const tally = this.tally();
    ctx.log.info(FINISHED, { ...tally, storeKeys: store.keys, storeChecksum: store.checksum });
    this.#announce(finishedLine(tally, store));
  }

  /** The finished client actors' figures summed. */
  tally(): ClientTally {
    const all = [...this.#done.values()];
    const sum = (pick: (d: ClientDone) => number) => all.reduce((n, d) => n + pick(d), 0);
    return {
      sessions: sum((d) => d.sessions),
      requests: sum((d) => d.requests),
      replies: sum((d) => d.replies),
      mismatches: sum((d) => d.mismatches),
      errors: sum((d) => d.errors),
      modelKeys: sum((d) => d.modelKeys),
      modelChecksum: addChecksums(all.map((d) => d.modelChecksum)),
    };
  }

  /** Its figures now. */
  figures(): StatsFigures {
    return {
      finished: this.#done.size,
      expected: CLIENTS.length,
      tally: this.tally(),
      ...(this.#store === undefined ? {} : { store: this.#store }),
    };
  }
}
