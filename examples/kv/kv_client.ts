/**
 * {@linkcode KvClient}: simulated clients of the service. Each has its own
 * keys, a seeded stream of requests and a model of what its keys hold, so
 * every reply is checked and a wrong one counted.
 *
 * @module
 */
import { type Context, on, type RequestOptions } from "../../mod.ts";
import { ROUTER } from "./actor_names.ts";
import { ClientDone, KvDelete, KvGet, KvPut, KvResult, NextRound } from "./messages.ts";
import { addChecksums, storeChecksum } from "./store_hash.ts";

/** How long a client waits for the router's reply, in ms. */
export const REQUEST_TIMEOUT_MS = 10_000;

const REQUEST: RequestOptions<typeof KvResult.fields> = {
  reply: KvResult,
  timeoutMs: REQUEST_TIMEOUT_MS,
};

/** A seeded 32-bit generator (mulberry32): one seed gives one stream, in every process. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * One simulated client. It owns the keys `c<id>/k0` … so no other client
 * touches them: its model is exact whatever the interleaving of clients,
 * and so is the final store.
 */
class SimulatedClient {
  readonly model = new Map<string, string>();
  requests = 0;
  replies = 0;
  mismatches = 0;
  errors = 0;
  readonly #id: number;
  readonly #keys: number;
  readonly #random: () => number;

  constructor(id: number, seed: number, keys: number) {
    this.#id = id;
    this.#keys = keys;
    this.#random = seededRandom(Math.imul(seed, 0x9e3779b1) ^ Math.imul(id + 1, 0x85ebca6b));
  }

  /** Sends its next request (half reads, a third writes, the rest removals) and checks the reply. */
  async issue(round: number, ctx: Context): Promise<void> {
    const key = `c${this.#id}/k${this.#random() % this.#keys}`;
    const pick = this.#random() % 100;
    const before = this.model.get(key);
    let reply: Promise<Readonly<KvResult>>;
    if (pick < 50) {
      reply = ctx.request(ROUTER, KvGet, { key }, REQUEST);
    } else if (pick < 85) {
      const value = `v${round}.${(this.#random() % 1000).toString(36)}`;
      this.model.set(key, value);
      reply = ctx.request(ROUTER, KvPut, { key, value }, REQUEST);
    } else {
      this.model.delete(key);
      reply = ctx.request(ROUTER, KvDelete, { key }, REQUEST);
    }
    this.requests++;
    let result: Readonly<KvResult>;
    try {
      result = await reply;
    } catch (error) {
      this.errors++;
      ctx.log.warn("request failed", { key, error });
      return;
    }
    this.replies++;
    if (result.found !== (before !== undefined) || result.value !== (before ?? "")) {
      this.mismatches++;
      ctx.log.warn("wrong answer", { key, expected: before ?? null, got: result });
    }
  }
}

/** Options of {@linkcode KvClient}. */
export interface KvClientOptions {
  /** Ids of the simulated clients it runs. */
  clients: readonly number[];
  /** Requests each simulated client sends. */
  requests: number;
  /** Seed of the request streams. */
  seed: number;
  /** Keys each simulated client uses. */
  keys: number;
}

/**
 * Runs simulated clients in rounds: in each, every client has one request
 * in flight; the next round starts when all of them are answered. When
 * done, it publishes `ClientDone`. It stops issuing when the service shuts
 * down.
 */
export class KvClient {
  readonly #clients: readonly SimulatedClient[];
  readonly #requests: number;

  /** Handler of its own round messages. */
  readonly handlers = [on(NextRound, (m, ctx) => this.#round(m.round, ctx))];

  /** Clients as `options` says. */
  constructor(options: KvClientOptions) {
    this.#clients = options.clients.map((id) =>
      new SimulatedClient(id, options.seed, options.keys)
    );
    this.#requests = options.requests;
  }

  /** Starts the first round. */
  start(ctx: Context): void | Promise<void> {
    return this.#next(0, ctx);
  }

  async #round(round: number, ctx: Context): Promise<void> {
    if (ctx.signal.aborted) return;
    await Promise.all(this.#clients.map((c) => c.issue(round, ctx)));
    await this.#next(round + 1, ctx);
  }

  #next(round: number, ctx: Context): void | Promise<void> {
    if (round < this.#requests && this.#clients.length > 0) {
      // Through its own mailbox, so each round is one handled message.
      return ctx.send(ctx.name, NextRound, { round });
    }
    return ctx.publish(ClientDone, this.figures(ctx.name));
  }

  /** Its clients' figures, as `ClientDone` carries them. */
  figures(name: string): ClientDone {
    let requests = 0, replies = 0, mismatches = 0, errors = 0, modelKeys = 0;
    for (const c of this.#clients) {
      requests += c.requests;
      replies += c.replies;
      mismatches += c.mismatches;
      errors += c.errors;
      modelKeys += c.model.size;
    }
    return {
      client: name,
      sessions: this.#clients.length,
      requests,
      replies,
      mismatches,
      errors,
      modelKeys,
      modelChecksum: addChecksums(this.#clients.map((c) => storeChecksum(c.model))),
    };
  }
}
