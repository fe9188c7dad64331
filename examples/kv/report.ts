/**
 * The key-value service's figures in the run report: each process reports
 * its shards and, where it runs, the stats actor's tally; the total puts
 * the store back together and compares it with the clients' models.
 *
 * @module
 */
import type { MergeInfo } from "../../mod.ts";
import type { ShardFigures } from "./kv_shard.ts";
import type { StatsFigures } from "./kv_stats.ts";
import { addChecksums, checksumHex } from "./store_hash.ts";

/** One process's part. */
export interface KvPart {
  /** The shards it hosts. */
  readonly shards: readonly ShardFigures[];
  /** The stats actor's figures, in the process hosting it. */
  readonly stats?: StatsFigures;
}

/** The whole run's figures. */
export interface KvTotal {
  /** Every shard, by name. */
  readonly shards: readonly ShardFigures[];
  /** The stats actor's figures. */
  readonly stats: StatsFigures | undefined;
  /** Keys in the whole store at the end. */
  readonly storeKeys: number;
  /** Checksum of the whole store at the end. */
  readonly storeChecksum: bigint;
  /** Stateful actors whose process restarted (their figures cover their last run only). */
  readonly stateLost: readonly string[];
}

/** Every process's part as one total. */
export function mergeKv(parts: readonly KvPart[], info: MergeInfo): KvTotal {
  const shards = parts.flatMap((p) => p.shards).sort((a, b) => a.name < b.name ? -1 : 1);
  return {
    shards,
    stats: parts.find((p) => p.stats !== undefined)?.stats,
    storeKeys: shards.reduce((n, s) => n + s.keys, 0),
    storeChecksum: addChecksums(shards.map((s) => s.checksum)),
    stateLost: info.stateLost,
  };
}

/** Whether every client finished and the store is what their models say. */
function agrees(t: KvTotal): boolean | undefined {
  const s = t.stats;
  if (s === undefined || s.finished < s.expected) return undefined;
  return t.storeKeys === s.tally.modelKeys && t.storeChecksum === s.tally.modelChecksum;
}

/**
 * Whether the run went right: no wrong answer, no failed request, and, if
 * every client finished, a store equal to their models. A service stopped
 * before its clients finished is not a failure.
 */
export function kvOk(t: KvTotal): boolean {
  const tally = t.stats?.tally;
  return (tally === undefined || (tally.mismatches === 0 && tally.errors === 0)) &&
    agrees(t) !== false;
}

/** The total as report lines. */
export function kvLines(
  t: KvTotal,
  params: { readonly clients: number; readonly requests: number },
): string[] {
  const pad = "                ";
  const s = t.stats;
  const lines = [
    `  clients       ${params.clients} simulated clients, ${params.requests} requests each; ` +
    (s === undefined
      ? "the stats actor did not report"
      : `${s.finished} of ${s.expected} client actors finished`),
  ];
  if (s !== undefined) {
    lines.push(
      `  requests      ${s.tally.requests} sent, ${s.tally.replies} replied; ` +
        `${s.tally.mismatches} mismatches, ${s.tally.errors} errors`,
    );
  }
  t.shards.forEach((shard, i) => {
    lines.push(
      `${i === 0 ? "  shards        " : pad}${shard.name} ${shard.keys} keys; ` +
        `${shard.gets} gets (${shard.found} found), ${shard.puts} puts, ${shard.deletes} deletes`,
    );
  });
  const verdict = agrees(t);
  lines.push(
    `  store         ${t.storeKeys} keys, checksum ${checksumHex(t.storeChecksum)}; ` +
      (verdict === undefined
        ? "not compared (the clients did not all finish)"
        : verdict
        ? "agrees with the clients' models"
        : "DISAGREES with the clients' models"),
  );
  if (t.stateLost.length > 0) {
    lines.push(
      `  state lost    ${
        t.stateLost.join(", ")
      } restarted with their process: the figures above cover their last run only`,
    );
  }
  return lines;
}
