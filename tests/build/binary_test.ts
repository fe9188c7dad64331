/**
 * The single binary. `deno compile` needs a `denort` base binary that it
 * downloads from Deno's release site, which these machines cannot reach; so
 * the compiled binary is tested only when DENORT_BIN names one, and the exact
 * code it would embed (the `deno bundle` of cli.ts) is always tested, run from
 * an empty directory so nothing in the checkout can help it.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const DENORT_BIN = Deno.env.get("DENORT_BIN");

async function run(cmd: string, args: string[], cwd: string) {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** `run config/dev.yaml --swaps 2000` ran the trading app and wrote its audit file in `dir`. */
async function assertTradingRan(r: { code: number; stdout: string; stderr: string }, dir: string) {
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^mycelium run \S*config\/dev\.yaml: 7 actors in one process \(monolith\)/m,
  );
  assert.match(r.stdout, /^ {2}swaps +2000$/m);
  assert.match(r.stdout, /^ {2}delivery +every signal executed once/m);
  assert.match(r.stdout, /^ {2}completed +yes/m);
  assert.match(r.stdout, /^actor +group +delivery +handled /m);
  // The default audit file, in the working directory, is the one the summary names.
  const audit = await Deno.readFile(`${dir}/mycelium-audit.log`);
  const lines = new TextDecoder().decode(audit).split("\n").filter((l) => l !== "").length;
  assert.ok(lines > 0);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", audit));
  const sha = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.match(
    r.stdout,
    new RegExp(`^ {2}audit +mycelium-audit\\.log: ${lines} lines, sha256 ${sha}$`, "m"),
  );
}

Deno.test("the bundled cli.ts runs the trading app from an empty directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_bundle_" });
  try {
    const bundle = `${dir}/mycelium.js`;
    const built = await run(Deno.execPath(), [
      "bundle",
      "--platform",
      "deno",
      "-o",
      bundle,
      "cli.ts",
    ], ROOT);
    assert.equal(built.code, 0, built.stderr);
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    const r = await run(Deno.execPath(), [
      "run",
      "--allow-read",
      `--allow-write=${empty}`,
      "--allow-env",
      bundle,
      "run",
      `${ROOT}config/dev.yaml`,
      "--swaps",
      "2000",
    ], empty);
    await assertTradingRan(r, empty);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the compiled mycelium binary runs the trading app" +
    (DENORT_BIN
      ? ""
      : " (ignored: set DENORT_BIN to a denort binary; deno compile cannot download one here)"),
  ignore: !DENORT_BIN,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_compile_" });
    try {
      const binary = `${dir}/mycelium`;
      // The compile task's own flags (permissions, entry), with the output moved to the temp dir.
      const task: string = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.compile;
      const args = task.split(/\s+/).slice(1).map((a) => a === "dist/mycelium" ? binary : a);
      const built = await run(Deno.execPath(), args, ROOT);
      assert.equal(built.code, 0, built.stderr);
      const runArgs = ["run", `${ROOT}config/dev.yaml`, "--swaps", "2000"];
      await assertTradingRan(await run(binary, runArgs, dir), dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
