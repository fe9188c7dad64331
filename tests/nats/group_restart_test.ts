/**
 * A group reached through a 3-node NATS cluster is SIGKILLed mid-run: the
 * supervisor restarts it, the peers see its new instance announce itself,
 * and the probe app (requests retried after a timeout) completes with every
 * answer right and order kept.
 */
import assert from "node:assert/strict";
import { denoFollowing, firstPid, splitRunPermissions } from "../_deno.ts";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsCluster } from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: `NATS: a SIGKILLed group is restarted and the run completes with the same results${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const cluster = await startNatsCluster(3);
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_kill_" });
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
      // Kill the answerer's process once the asker is halfway (an event the probe logs).
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
          when: (stderr) =>
            firstPid(stderr, "answering") !== undefined && stderr.includes("probe halfway"),
          then: (stderr) => Deno.kill(firstPid(stderr, "answering")!, "SIGKILL"),
        },
      );
      const { stdout: out, stderr } = run;
      assert.ok(run.fired, `the answerer was never killed:\n${stderr}`);
      assert.equal(run.code, 0, `${out}\n${stderr}`);
      assert.match(stderr, /answering: restarting/);
      const line = out.split("\n").find((l) => l.startsWith("  probe "));
      const p = JSON.parse(line!.slice("  probe ".length));
      assert.deepEqual(p, {
        seq: { source_a: 1500, source_b: 1500 },
        ticks: { source_a: 1500, source_b: 1500 },
        outOfOrder: 0,
        answered: 200,
        wrong: 0,
      });
      assert.match(out, /^ {2}recovery +restarted: answering ×1;/m);
      // The new instance does not count what its predecessor received as lost.
      assert.match(out, /^ {2}links +.*; 0 dropped or undelivered;/m);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
