/**
 * A key-value service as a Mycelium app: request/reply at its heart. Client
 * actors request `KvGet`/`KvPut`/`KvDelete` from the router, which forwards
 * each to the shard owning the key by request and relays the reply; the
 * clients check every reply against their own model; the stats actor
 * tallies and announces when every client finished. A service: it keeps
 * serving until SIGINT/SIGTERM, then drains and prints its report.
 *
 * Built only on the public entry (`mod.ts`), like any user's app.
 *
 * @module
 */
import { defineApp, param } from "../../mod.ts";
import { CLIENTS, ROUTER, SHARDS, STATS } from "./actor_names.ts";
import { KvClient } from "./kv_client.ts";
import { KvRouter } from "./kv_router.ts";
import { KvShard } from "./kv_shard.ts";
import { KvStats } from "./kv_stats.ts";
import { KV_MESSAGES } from "./messages.ts";
import { kvLines, kvOk, type KvPart, mergeKv } from "./report.ts";

/** Where the stats actor's announcement goes: the operator's terminal. */
function announce(line: string): void {
  // deno-lint-ignore no-console -- a service telling its operator that the load finished.
  console.log(`kv: ${line}`);
}

/** The simulated clients a client actor runs: every `CLIENTS.length`-th, from its index. */
function clientIds(index: number, clients: number): number[] {
  const ids: number[] = [];
  for (let id = index; id < clients; id += CLIENTS.length) ids.push(id);
  return ids;
}

const shard = (name: string) => ({ create: () => new KvShard(name), subscribe: [] });

/** The key-value service. */
export const kvApp = defineApp({
  name: "kv",
  description: "A sharded key-value service: clients request, a router forwards to shards.",
  messages: KV_MESSAGES,
  lifecycle: "service",
  params: {
    clients: param.integer({
      description: "Simulated clients, spread over the client actors.",
      default: 8,
      min: 1,
    }),
    requests: param.integer({ description: "Requests each client sends.", default: 200, min: 0 }),
    seed: param.integer({ description: "Seed of the request streams.", default: 1 }),
    keys: param.integer({ description: "Keys each client uses.", default: 16, min: 1 }),
  },
  actors: {
    [ROUTER]: { create: () => new KvRouter(), subscribe: [], stateful: false },
    [SHARDS[0]]: shard(SHARDS[0]),
    [SHARDS[1]]: shard(SHARDS[1]),
    [SHARDS[2]]: shard(SHARDS[2]),
    [CLIENTS[0]]: {
      create: (env) => new KvClient({ ...env.params, clients: clientIds(0, env.params.clients) }),
      subscribe: [],
    },
    [CLIENTS[1]]: {
      create: (env) => new KvClient({ ...env.params, clients: clientIds(1, env.params.clients) }),
      subscribe: [],
    },
    [STATS]: () => new KvStats(announce),
  },
  report: {
    part: (actors): KvPart => {
      const stats = actors[STATS];
      return {
        shards: SHARDS.flatMap((name) => actors[name]?.figures() ?? []),
        ...(stats === undefined ? {} : { stats: stats.figures() }),
      };
    },
    merge: mergeKv,
    lines: kvLines,
    ok: kvOk,
  },
});
