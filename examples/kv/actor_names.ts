/**
 * The names of the key-value service's actors: what topologies place and
 * what actors address each other by.
 *
 * @module
 */

/** The front every client talks to: it forwards each request to the shard owning the key. */
export const ROUTER = "kv_router";

/** The shards, each owning the keys that hash to its index. */
export const SHARDS = ["kv_shard_0", "kv_shard_1", "kv_shard_2"] as const;

/** The client actors; the simulated clients (`--clients`) are spread over them. */
export const CLIENTS = ["kv_client_0", "kv_client_1"] as const;

/** The actor that tallies what the clients saw and announces when they all finished. */
export const STATS = "kv_stats";
