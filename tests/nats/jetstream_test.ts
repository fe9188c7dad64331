/**
 * JetStream delivery over a real 3-node cluster (JetStream on every node,
 * stream replicated 3 times): the probe app's sink group receives its sends
 * and publishes through the stream. A server is SIGKILLed mid-run, or the
 * sink's forwarding group is: the run completes, every message arrives once
 * and in order, and nothing is counted dropped.
 */
import assert from "node:assert/strict";
import { denoFollowing, type FollowedRun, splitRunArgs } from "../_deno.ts";
import {
  NATS_SERVER_AVAILABLE,
  NATS_SKIP_REASON,
  type NatsStreamState,
  startNatsCluster,
} from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const why = NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`;

type Outcome = FollowedRun;

/** Runs the probe app over a JetStream cluster; `kill` is called once, when the asker is halfway. */
async function probeRun(
  dir: string,
  urls: readonly string[],
  kill: (stderr: string) => Promise<void>,
): Promise<Outcome> {
  await Deno.writeTextFile(
    `${dir}/t.yaml`,
    `topology:
  mode: hybrid
  process_groups:
    front: { actors: [source_a, source_b, asker], host: alpha }
    books: { actors: [sink], host: beta, delivery: jetstream }
    answering: { actors: [answerer], host: gamma }
nats:
  servers: [${urls.join(", ")}]
  jetstream: { replicas: 3 }
`,
  );
  return await denoFollowing(
    splitRunArgs(dir, "tests/runtime/fixtures/probe_main.ts", [
      "--count",
      "3000",
      "--asks",
      "200",
      "--pace",
      "400",
    ]),
    ROOT,
    { when: (stderr) => stderr.includes("probe halfway"), then: kill },
    // A run takes seconds (up to about 15 s with a server killed); one stalled at its end is
    // stopped here and fails below rather than holding the test run up.
    120_000,
  );
}

function assertExactlyOnce(o: Outcome): void {
  assert.ok(o.fired, `never halfway:\n${o.stderr}`);
  assert.ok(!o.timedOut, `the run was still going after 120 s:\n${o.stdout}\n${o.stderr}`);
  assert.equal(o.code, 0, `${o.stdout}\n${o.stderr}`);
  const line = o.stdout.split("\n").find((l) => l.startsWith("  probe "));
  assert.ok(line !== undefined, o.stdout);
  // Every Seq and Tick once (a repeat or a gap would be out of order), every answer right.
  assert.deepEqual(JSON.parse(line.slice("  probe ".length)), {
    seq: { source_a: 3000, source_b: 3000 },
    ticks: { source_a: 3000, source_b: 3000 },
    outOfOrder: 0,
    answered: 200,
    wrong: 0,
  });
  // The sink handled each of them once: 2 × 3000 Seq, 2 × 3000 Tick and AskerDone.
  assert.match(o.stdout, /^sink +books +mailbox +12001 /m);
}

/**
 * What the stream says after the run, from a server still running: the
 * sink group's messages went through it (its last sequence number counts
 * what was ever stored: a retried publish stored twice would show) and
 * every one was acknowledged (a work-queue stream keeps only what is not).
 *
 * After a server was killed, the servers left take a few seconds to agree
 * on what was acknowledged (a new leader's counts lag its acknowledgements,
 * and the stream's removals lag the consumer's): the stream is asked again
 * until it is empty, for at most the consumer's acknowledgement deadline
 * (10 s) and 2 s more; a message whose acknowledgement was really lost
 * would still be there.
 */
async function assertStoredOnceAndAcked(
  servers: readonly { streams(): Promise<Map<string, NatsStreamState>> }[],
): Promise<void> {
  let state: NatsStreamState | undefined;
  const deadline = Date.now() + 12_000;
  for (let wait = 50;; wait = Math.min(wait * 2, 500)) {
    state = undefined;
    for (const s of servers) {
      state = await s.streams().then((m) => m.get("MYCELIUM_MYCELIUM"), () => undefined);
      if (state !== undefined) break;
    }
    if ((state?.messages === 0 && state.ackPending["books"] === 0) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, wait));
  }
  assert.ok(state !== undefined, "no server reports stream MYCELIUM_MYCELIUM");
  // The app's 12001 and the runtime's end-of-run messages to the group's run monitor.
  assert.ok(state.lastSeq >= 12001 && state.lastSeq <= 12020, `stored ${state.lastSeq}`);
  assert.equal(state.messages, 0);
  assert.deepEqual(state.ackPending, { books: 0 });
}

Deno.test({
  name: `NATS JetStream: a SIGKILLed server of the cluster loses nothing and doubles nothing${why}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_js_server_kill_" });
    const cluster = await startNatsCluster(3, { jetstreamDir: `${dir}/js` });
    try {
      let victim = -1;
      const o = await probeRun(dir, cluster.urls, async () => {
        const counts = await Promise.all(cluster.servers.map((s) => s.connections()));
        victim = counts.indexOf(Math.max(...counts));
        await cluster.servers[victim]!.stop("SIGKILL");
      });
      assertExactlyOnce(o);
      assert.match(o.stdout, /^ {2}links +.*; [1-9]\d* reconnects$/m);
      await assertStoredOnceAndAcked(cluster.servers.filter((_, i) => i !== victim));
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
