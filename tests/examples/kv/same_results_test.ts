/**
 * The key-value service in one process, run by `runProcess` as a user's
 * program would: a monolith and a faithful monolith (every message through
 * the codec) give the same figures, every reply is right, and the store is
 * what the clients' models say.
 */
import assert from "node:assert/strict";
import { loadTopology, type ProcessReport, runProcess, sinkLogger } from "../../../mod.ts";
import { kvApp } from "../../../examples/kv/app.ts";
import { STATS } from "../../../examples/kv/actor_names.ts";
import { FINISHED } from "../../../examples/kv/kv_stats.ts";
import type { KvPart } from "../../../examples/kv/report.ts";
import { ROOT } from "./_kv_cli.ts";

const PARAMS = { clients: 5, requests: 120, seed: 7, keys: 8 };
const DEADLINE_MS = 60_000;

/** Runs the service until the stats actor logs that every client finished, then stops it. */
async function runUntilFinished(faithful: boolean): Promise<ProcessReport> {
  const topology = await loadTopology(`${ROOT}examples/kv/config/dev.yaml`, {
    knownActors: kvApp.actorNames,
  });
  const stop = new AbortController();
  const problems: string[] = [];
  let finished = false;
  const logger = sinkLogger((r) => {
    if (r.source === STATS && r.message === FINISHED) {
      finished = true;
      stop.abort();
    }
    if (r.level === "warn" || r.level === "error") problems.push(`${r.source}: ${r.message}`);
  });
  const deadline = setTimeout(() => stop.abort(new Error("deadline")), DEADLINE_MS);
  try {
    const report = await runProcess(kvApp, {
      topology,
      params: PARAMS,
      faithful,
      logger,
      signal: stop.signal,
    });
    assert.ok(finished, `the clients did not finish within ${DEADLINE_MS} ms`);
    assert.deepEqual(problems, []);
    return report;
  } finally {
    clearTimeout(deadline);
  }
}

/** Name, handled and failed of every actor: what must not depend on the mode. */
function counts(r: ProcessReport): [string, number, number][] {
  return r.actors.map((a) => [a.name, a.handled, a.failed]);
}

Deno.test("kvApp gives the same report part in a monolith and a faithful monolith", async () => {
  const plain = await runUntilFinished(false);
  const faithful = await runUntilFinished(true);
  assert.deepEqual(faithful.app, plain.app);
  assert.deepEqual(counts(faithful), counts(plain));
  for (const r of [plain, faithful]) {
    assert.equal(r.completed, true);
    assert.equal(r.shutdown.drained, true);
  }
});

Deno.test("kvApp answers every request right and ends with the clients' models as its store", async () => {
  const report = await runUntilFinished(false);
  const part = report.app as KvPart;
  const stats = part.stats!;
  const requests = PARAMS.clients * PARAMS.requests;
  assert.equal(stats.finished, stats.expected);
  assert.equal(stats.tally.sessions, PARAMS.clients);
  assert.equal(stats.tally.requests, requests);
  assert.equal(stats.tally.replies, requests);
  assert.equal(stats.tally.mismatches, 0);
  assert.equal(stats.tally.errors, 0);
  assert.equal(part.shards.length, 3);
  assert.equal(part.shards.reduce((n, s) => n + s.gets + s.puts + s.deletes, 0), requests);

  const total = kvApp.report!.merge([part], { restarts: {}, stateLost: [], completed: true });
  assert.equal(total.storeKeys, stats.tally.modelKeys);
  assert.equal(total.storeChecksum, stats.tally.modelChecksum);
  assert.deepEqual(stats.store, { keys: total.storeKeys, checksum: total.storeChecksum });
  assert.equal(kvApp.report!.ok!(total), true);
  const lines = kvApp.report!.lines(total, { ...PARAMS }) as readonly string[];
  assert.ok(lines.some((l) => /agrees with the clients' models$/.test(l)), lines.join("\n"));
  const router = report.actors.find((a) => a.name === "kv_router")!;
  assert.equal(router.handled, requests);
});
