/**
 * A clean run prints no alarm: the README's quickstart app split over three
 * processes (a Unix socket and TCP) starts, links, finishes and shuts down
 * without one `warn` or `error` line on stderr — no "link reconnecting" while
 * the peers come up, no "connection ended … Broken pipe" while they go.
 */
import assert from "node:assert/strict";
import { deno, freePort } from "../_deno.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("a clean split run of the quickstart app logs no warning or error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_quiet_" });
  try {
    for (let run = 0; run < 3; run++) {
      const config = `${dir}/split${run}.yaml`;
      await Deno.writeTextFile(
        config,
        `topology:
  mode: hybrid
  process_groups:
    front: { actors: [reader, splitter] }
    counting: { actors: [counter], transport: unix_socket }
    reporting: { actors: [reporter], transport: tcp, endpoint: "127.0.0.1:${freePort()}" }
`,
      );
      const r = await deno([
        "run",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-net",
        `--allow-run=${Deno.execPath()}`,
        "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
        "examples/quickstart/main.ts",
        "run",
        config,
        "--socket-dir",
        `${dir}/sockets${run}`,
      ], ROOT);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /completed\s+yes/);
      const alarms = r.stderr.split("\n").filter((line) =>
        /\|\s*(warn|error)\b/.test(line) || /"level":"(warn|error)"/.test(line)
      );
      assert.deepEqual(alarms, [], `run ${run} stderr:\n${r.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
