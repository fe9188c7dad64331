/**
 * `mycelium run` of a split topology, end to end: the CLI supervises one real
 * child process per group (linked over Unix sockets and TCP), merges their
 * summaries, and the results equal the monolith's, audit file included.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ACTORS = [
  "polygon_collector",
  "market_relay",
  "arbitrage_strategy",
  "order_executor",
  "risk_manager",
  "audit_trail",
  "metrics_collector",
];

async function mycelium(args: string[], dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-net",
      `--allow-run=${Deno.execPath()}`,
      "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
      "cli.ts",
      "run",
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A free range of `n` ports on 127.0.0.1 (bound and released). */
function freePorts(n: number): number {
  for (;;) {
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (first.addr as Deno.NetAddr).port;
    first.close();
    try {
      for (let i = 1; i < n; i++) Deno.listen({ hostname: "127.0.0.1", port: port + i }).close();
      return port;
    } catch {
      // One of them is taken: try another range.
    }
  }
}

const HYBRID = (base: number) =>
  `topology:
  mode: hybrid
  base_port: ${base}
  hosts: { local: "127.0.0.1", compliance: "127.0.0.1" }
  process_groups:
    hot_path:
      actors: [polygon_collector, market_relay, arbitrage_strategy, metrics_collector]
      transport: channel
    execution:
      actors: [order_executor]
      transport: unix_socket
    compliance:
      actors: [audit_trail, risk_manager]
      host: compliance
`;

const DISTRIBUTED = (base: number) =>
  `topology:
  mode: distributed
  actors:
${
    ACTORS.map((a, i) => `    ${a}: { transport: tcp, endpoint: "127.0.0.1:${base + i}" }`).join(
      "\n",
    )
  }
`;

/** The summary lines that must not depend on the deployment or on timing. */
function results(stdout: string): string[] {
  const lines = stdout.split("\n");
  const summary = lines.filter((l) => /^ {2}(swaps|signals|P&L|completed) /.test(l));
  const actors = lines
    .filter((l) => /^[a-z_]+ +\d+ +\d+ +\d+ +\d+ +\d+ /.test(l))
    .map((l) => l.split(/ +/).slice(0, 6).join(" ")) // name, handled, failed, dropped, discarded, restarts
    .sort();
  return [...summary, ...actors];
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

for (const [mode, config] of [["hybrid", HYBRID], ["distributed", DISTRIBUTED]] as const) {
  Deno.test(`mycelium run of a ${mode} topology supervises one process per group and matches the monolith`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `mycelium_${mode}_` });
    try {
      const common = ["--swaps", "2500", "--seed", "7"];
      const mono = await mycelium(
        ["config/dev.yaml", ...common, "--audit", `${dir}/mono.log`],
        dir,
      );
      assert.equal(mono.code, EXIT_CODES.OK, mono.stderr);
      await Deno.writeTextFile(`${dir}/split.yaml`, config(freePorts(ACTORS.length)));
      const split = await mycelium(
        [
          `${dir}/split.yaml`,
          "--all-hosts",
          "--socket-dir",
          `${dir}/sockets`,
          ...common,
          "--audit",
          `${dir}/split.log`,
        ],
        dir,
      );
      assert.equal(split.code, EXIT_CODES.OK, split.stderr);
      const groups = mode === "hybrid" ? 3 : ACTORS.length;
      assert.match(split.stdout, new RegExp(`${mode}, ${groups} process groups`));
      assert.equal((split.stderr.match(/: completed$/gm) ?? []).length, groups, split.stderr);
      assert.deepEqual(results(split.stdout), results(mono.stdout));
      assert.equal(results(mono.stdout).length, 4 + ACTORS.length);
      assert.equal(await sha256(`${dir}/split.log`), await sha256(`${dir}/mono.log`));
      assert.match(split.stdout, new RegExp(`sha256 ${await sha256(`${dir}/mono.log`)}`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("mycelium run of a topology with no group on this host says how to run it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_nohost_" });
  try {
    await Deno.writeTextFile(
      `${dir}/far.yaml`,
      DISTRIBUTED(7000).replaceAll("127.0.0.1", "10.9.9.9"),
    );
    const r = await mycelium([`${dir}/far.yaml`, "--audit", `${dir}/x.log`], dir);
    assert.equal(r.code, EXIT_CODES.USAGE);
    assert.match(r.stderr, /places no process group on this host/);
    assert.match(
      r.stderr,
      /fix: run the groups on their hosts with --group NAME, or add --all-hosts/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
