/**
 * What `deno compile` would embed carries the NATS client too: the bundle of
 * cli.ts, run from an empty directory (no deno.json, no node_modules), runs
 * the trading app with its groups on three hosts that share one nats-server.
 */
import assert from "node:assert/strict";
import { NATS_SERVER_AVAILABLE, NATS_SKIP_REASON, startNatsServer } from "./_nats_server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function run(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test({
  name: `the bundled cli.ts runs the trading app over NATS from an empty directory${
    NATS_SERVER_AVAILABLE ? "" : ` (skipped: ${NATS_SKIP_REASON})`
  }`,
  ignore: !NATS_SERVER_AVAILABLE,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_nats_bundle_" });
    const server = await startNatsServer();
    try {
      const bundle = `${dir}/mycelium.js`;
      const built = await run(["bundle", "--platform", "deno", "-o", bundle, "cli.ts"], ROOT);
      assert.equal(built.code, 0, built.stderr);
      const empty = `${dir}/empty`;
      await Deno.mkdir(empty);
      await Deno.writeTextFile(
        `${dir}/t.yaml`,
        `topology:
  mode: hybrid
  process_groups:
    feed: { actors: [polygon_collector, market_relay], host: alpha }
    strat: { actors: [arbitrage_strategy, metrics_collector], host: beta }
    exec: { actors: [order_executor, risk_manager, audit_trail], host: gamma }
nats:
  servers: [${server.url}]
`,
      );
      const r = await run([
        "run",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-net",
        `--allow-run=${Deno.execPath()}`,
        "--allow-env",
        bundle,
        "run",
        `${dir}/t.yaml`,
        "--swaps",
        "2000",
        "--audit",
        `${dir}/audit.log`,
        "--all-hosts",
        "--socket-dir",
        `${dir}/s`,
      ], empty);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^ {2}delivery +every signal executed once/m);
      assert.match(r.stdout, /^ {2}completed +yes; shutdown drained; 0 messages dropped/m);
      assert.deepEqual([...Deno.readDirSync(empty)], [], "nothing was written in the empty dir");
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
