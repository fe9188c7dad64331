/**
 * JetStream and a killed receiving group: over a 3-node JetStream cluster,
 * a ledger group (delivery: jetstream) that books each entry in its log is
 * SIGKILLed mid-run and restarted by the supervisor. Entries sent while it
 * was down waited in the stream, and what it never acknowledged went to its
 * new instance first: its log holds every entry. Delivery is at least once
 * per instance: an entry the killed instance booked whose acknowledgement
 * had not reached a server yet is booked again.
 */
import assert from "node:assert/strict";
import { denoFollowing, firstPid, splitRunArgs } from "../_deno.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsCluster } from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const COUNT = 3000;

Deno.test({
  name: `NATS JetStream: a SIGKILLed receiving group is restarted and misses no entry sent to it${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_js_group_kill_" });
    const cluster = await startNatsCluster(3, { jetstreamDir: `${dir}/js` });
    try {
      await Deno.writeTextFile(
        `${dir}/t.yaml`,
        `topology:
  mode: hybrid
  process_groups:
    feed: { actors: [feeder], host: alpha }
    books: { actors: [ledger], host: beta, delivery: jetstream }
nats:
  servers: [${cluster.urls.join(", ")}]
  jetstream: { replicas: 3 }
`,
      );
      // A run that never ends (entries lost on core NATS) is stopped after 60 s and fails below.
      const run = await denoFollowing(
        splitRunArgs(dir, "tests/nats/fixtures/ledger_app.ts", ["--count", String(COUNT)]),
        ROOT,
        {
          when: (stderr) =>
            firstPid(stderr, "books") !== undefined && stderr.includes("feeder halfway"),
          then: (stderr) => Deno.kill(firstPid(stderr, "books")!, "SIGKILL"),
        },
        60_000,
      );
      const { stdout: out, stderr } = run;
      assert.ok(run.fired, `the ledger was never killed:\n${stderr}`);
      assert.equal(run.code, 0, `${out}\n${stderr}`);
      assert.match(stderr, /books: restarting/);
      const booked = [...stderr.matchAll(/booked n=(\d+)/g)].map((m) => Number(m[1]));
      const missing = [];
      for (let n = 1; n <= COUNT; n++) if (!booked.includes(n)) missing.push(n);
      assert.deepEqual(missing, [], stderr);
      // At least once: what the killed instance booked but whose acknowledgement had not reached
      // a server is booked again by the new one (at most the consumer's 1024 unacknowledged).
      const twice = booked.length - new Set(booked).size;
      assert.ok(twice < 1024, `${twice} entries booked twice`);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
