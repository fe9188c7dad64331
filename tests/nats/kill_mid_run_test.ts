/**
 * Something dies mid-run while the probe app runs over a 3-node core NATS
 * cluster (the asker's requests are retried after a timeout):
 *
 * - one nats-server, the one holding the most of the run's connections, is
 *   SIGKILLed: clients fail over to the other two, the run completes with the
 *   monolith's results and the report counts the reconnects (what core NATS
 *   lost is counted as dropped; the failover test checks that count exactly);
 * - a group is SIGKILLed: the supervisor restarts it, the peers see its new
 *   instance announce itself, every answer is right and order is kept.
 */
import assert from "node:assert/strict";
import {
  denoFollowing,
  firstPid,
  type FollowedRun,
  splitRunArgs,
  type StderrHook,
} from "../_deno.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsCluster } from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const skipped = NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`;

/**
 * The probe over `urls`, its answerer in a group of its own: `then` runs once
 * the asker is halfway (and `ready` holds); the results must be the monolith's.
 */
async function probe(
  dir: string,
  urls: readonly string[],
  then: StderrHook["then"],
  ready: (stderr: string) => boolean = () => true,
): Promise<FollowedRun> {
  await Deno.writeTextFile(
    `${dir}/t.yaml`,
    `topology:
  mode: hybrid
  process_groups:
    front: { actors: [source_a, source_b, asker, sink], host: alpha }
    answering: { actors: [answerer], host: beta }
nats:
  servers: [${urls.join(", ")}]
`,
  );
  const run = await denoFollowing(
    splitRunArgs(dir, "tests/runtime/fixtures/probe_main.ts", [
      "--count",
      "1500",
      "--asks",
      "200",
      "--pace",
      "400",
    ]),
    ROOT,
    { when: (stderr) => ready(stderr) && stderr.includes("probe halfway"), then },
  );
  assert.ok(run.fired, `never halfway:\n${run.stderr}`);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const line = run.stdout.split("\n").find((l) => l.startsWith("  probe "));
  assert.deepEqual(JSON.parse(line!.slice("  probe ".length)), {
    seq: { source_a: 1500, source_b: 1500 },
    ticks: { source_a: 1500, source_b: 1500 },
    outOfOrder: 0,
    answered: 200,
    wrong: 0,
  });
  return run;
}

Deno.test({
  name: `NATS: a killed server of the cluster costs a reconnect, and the run completes${skipped}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_server_kill_" });
    try {
      const run = await probe(dir, cluster.urls, async () => {
        const counts = await Promise.all(cluster.servers.map((s) => s.connections()));
        await cluster.servers[counts.indexOf(Math.max(...counts))]!.stop("SIGKILL");
      });
      // The clients on the killed server reconnected elsewhere, and the report says so.
      assert.match(run.stdout, /^ {2}links +.*; [1-9]\d* reconnects$/m);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `NATS: a SIGKILLed group is restarted and the run completes with the same results${skipped}`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_kill_" });
    try {
      const run = await probe(
        dir,
        cluster.urls,
        (stderr) => Deno.kill(firstPid(stderr, "answering")!, "SIGKILL"),
        (stderr) => firstPid(stderr, "answering") !== undefined,
      );
      assert.match(run.stderr, /answering: restarting/);
      assert.match(run.stdout, /^ {2}recovery +restarted: answering ×1;/m);
      // The new instance does not count what its predecessor received as lost.
      assert.match(run.stdout, /^ {2}links +.*; 0 dropped or undelivered;/m);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
