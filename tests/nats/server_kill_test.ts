/**
 * One nats-server of a 3-node cluster, the one holding the most of the run's
 * connections, is SIGKILLed mid-run: clients fail over to the other two and
 * the probe app completes with the monolith's results. Whatever core NATS
 * lost is counted in the run's dropped figure (the failover test checks that
 * count exactly).
 */
import assert from "node:assert/strict";
import { denoFollowing, splitRunPermissions } from "../_deno.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsCluster } from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: `NATS: a killed server of the cluster costs a reconnect, and the run completes${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_server_kill_" });
    try {
      await Deno.writeTextFile(
        `${dir}/t.yaml`,
        `topology:
  mode: hybrid
  process_groups:
    front: { actors: [source_a, source_b, asker, sink], host: alpha }
    answering: { actors: [answerer], host: beta }
nats:
  servers: [${cluster.urls.join(", ")}]
`,
      );
      const run = await denoFollowing(
        [
          "run",
          ...splitRunPermissions(dir),
          "tests/runtime/fixtures/probe_main.ts",
          "run",
          `${dir}/t.yaml`,
          "--socket-dir",
          `${dir}/s`,
          "--all-hosts",
          ...["--count", "1500", "--asks", "200", "--pace", "400"],
        ],
        ROOT,
        {
          when: (stderr) => stderr.includes("probe halfway"),
          then: async () => {
            const counts = await Promise.all(cluster.servers.map((s) => s.connections()));
            await cluster.servers[counts.indexOf(Math.max(...counts))]!.stop("SIGKILL");
          },
        },
      );
      const { stdout: out, stderr } = run;
      assert.ok(run.fired, `never halfway:\n${stderr}`);
      assert.equal(run.code, 0, `${out}\n${stderr}`);
      const line = out.split("\n").find((l) => l.startsWith("  probe "));
      const p = JSON.parse(line!.slice("  probe ".length));
      assert.deepEqual(p, {
        seq: { source_a: 1500, source_b: 1500 },
        ticks: { source_a: 1500, source_b: 1500 },
        outOfOrder: 0,
        answered: 200,
        wrong: 0,
      });
      // The clients on the killed server reconnected elsewhere, and the report says so.
      assert.match(out, /^ {2}links +.*; [1-9]\d* reconnects$/m);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
