/**
 * The key-value service's message types. Requests (`KvGet`, `KvPut`,
 * `KvDelete`) all answer with one `KvResult`: the value the key held before
 * the operation, if any.
 *
 * @module
 */
import { defineMessage, field, type MessageOf } from "../../mod.ts";

/** Reads a key. */
export const KvGet = defineMessage({ id: 1, name: "KvGet", fields: { key: field.string() } });
/** A read. */
export type KvGet = MessageOf<typeof KvGet>;

/** Sets a key. */
export const KvPut = defineMessage({
  id: 2,
  name: "KvPut",
  fields: { key: field.string(), value: field.string() },
});
/** A write. */
export type KvPut = MessageOf<typeof KvPut>;

/** Removes a key. */
export const KvDelete = defineMessage({ id: 3, name: "KvDelete", fields: { key: field.string() } });
/** A removal. */
export type KvDelete = MessageOf<typeof KvDelete>;

/** The reply to every request: what the key held before it (`found: false`: nothing). */
export const KvResult = defineMessage({
  id: 4,
  name: "KvResult",
  fields: { found: field.bool(), value: field.string() },
});
/** A reply. */
export type KvResult = MessageOf<typeof KvResult>;

/** A client actor's note to itself: issue round `round` of its clients' requests. */
export const NextRound = defineMessage({
  id: 5,
  name: "NextRound",
  fields: { round: field.u32() },
});

/** Published by a client actor once its clients issued every request. */
export const ClientDone = defineMessage({
  id: 6,
  name: "ClientDone",
  fields: {
    /** The client actor's name. */
    client: field.string(),
    /** Simulated clients it ran. */
    sessions: field.u32(),
    requests: field.u32(),
    replies: field.u32(),
    /** Replies that differ from what the client's own model of its keys says. */
    mismatches: field.u32(),
    /** Requests that failed (timeout, no route, no reply). */
    errors: field.u32(),
    /** Keys its clients' models hold at the end. */
    modelKeys: field.u32(),
    /** Checksum of those models (see `store_hash.ts`). */
    modelChecksum: field.u64(),
  },
});
/** A client actor's figures. */
export type ClientDone = MessageOf<typeof ClientDone>;

/** Asks a shard for its key count and checksum. */
export const DigestRequest = defineMessage({ id: 7, name: "DigestRequest", fields: {} });

/** A shard's key count and checksum. */
export const ShardDigest = defineMessage({
  id: 8,
  name: "ShardDigest",
  fields: { keys: field.u32(), checksum: field.u64() },
});

/** Every message type of the service. */
export const KV_MESSAGES = [
  KvGet,
  KvPut,
  KvDelete,
  KvResult,
  NextRound,
  ClientDone,
  DigestRequest,
  ShardDigest,
] as const;
