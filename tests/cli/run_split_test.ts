/**
 * `mycelium run` of a split topology, end to end: the CLI supervises one real
 * child process per group (linked over Unix sockets and TCP), merges their
 * summaries, and the results equal the monolith's, audit file included.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { mycelium, sha256File as sha256 } from "./_mycelium.ts";
import { tradingApp } from "../../examples/trading/app.ts";
import { distributedTopology, freePorts, hybridTopology } from "../runtime/_split_topologies.ts";

const ACTORS = tradingApp.actorNames;

/** `mycelium run ARGS`, writing only in `dir`, with sockets and child processes. */
function run(args: string[], dir: string) {
  return mycelium(["run", ...args], dir, ["--allow-net", `--allow-run=${Deno.execPath()}`]);
}

const HYBRID = (basePort: number) => hybridTopology({ basePort });
const DISTRIBUTED = (basePort: number) => distributedTopology({ basePort });

/** The summary lines that must not depend on the deployment or on timing. */
function results(stdout: string): string[] {
  const lines = stdout.split("\n");
  const summary = lines.filter((l) => /^ {2}(swaps|signals|P&L|completed|delivery) /.test(l));
  // Actor rows: name, group, delivery, handled, msg/s, failed, dropped, discarded, restarts, then
  // hop and queueing times.
  // The group and delivery depend on the deployment, msg/s and latencies on timing.
  const actors = lines
    .filter((l) => /^[a-z_]+ +[a-z_]+ +(mailbox|direct|direct\+mailbox) +\d+ /.test(l))
    .map((l) => {
      const [name, _group, _delivery, handled, _rate, failed, dropped, discarded, restarts] = l
        .split(/ +/);
      return [name, handled, failed, dropped, discarded, restarts].join(" ");
    })
    .sort();
  return [...summary, ...actors];
}

for (const [mode, config] of [["hybrid", HYBRID], ["distributed", DISTRIBUTED]] as const) {
  Deno.test(`mycelium run of a ${mode} topology supervises one process per group and matches the monolith`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `mycelium_${mode}_` });
    try {
      const common = ["--swaps", "2500", "--seed", "7"];
      const mono = await run(
        ["config/dev.yaml", ...common, "--audit", `${dir}/mono.log`],
        dir,
      );
      assert.equal(mono.code, EXIT_CODES.OK, mono.stderr);
      await Deno.writeTextFile(`${dir}/split.yaml`, config(freePorts(ACTORS.length)));
      const split = await run(
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
      assert.equal(results(mono.stdout).length, 5 + ACTORS.length);
      // Every link end counted, nothing lost on them; no group restarted (every pair of groups is linked).
      const links = groups * (groups - 1);
      assert.match(
        split.stdout,
        new RegExp(
          `^ {2}links {9}${links} link ends; \\d+ messages sent[^;]*; 0 frames resent; 0 dropped or undelivered; \\d+ reconnects$`,
          "m",
        ),
      );
      assert.doesNotMatch(split.stdout, /^ {2}recovery /m);
      assert.doesNotMatch(mono.stdout, /^ {2}links /m);
      assert.match(
        split.stdout,
        new RegExp(
          `^order_executor +${mode === "hybrid" ? "execution" : "order_executor"} +mailbox `,
          "m",
        ),
      );
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
    const r = await run([`${dir}/far.yaml`, "--audit", `${dir}/x.log`], dir);
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

Deno.test("a group whose address another process holds ends the run at once, its cause in the last line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_in_use_" });
  const ports = freePorts(ACTORS.length);
  // Another program holds the first actor's endpoint.
  const holder = Deno.listen({ hostname: "127.0.0.1", port: ports });
  try {
    await Deno.writeTextFile(`${dir}/split.yaml`, DISTRIBUTED(ports));
    const r = await run(
      [
        `${dir}/split.yaml`,
        "--all-hosts",
        "--socket-dir",
        `${dir}/sockets`,
        "--swaps",
        "500",
        "--audit",
        `${dir}/a.log`,
      ],
      dir,
    );
    assert.notEqual(r.code, EXIT_CODES.OK, r.stderr);
    const last = r.stderr.trim().split("\n").at(-1)!;
    assert.match(last, /exit code 32, which restarting cannot fix/, r.stderr);
    assert.match(last, /TRANSPORT_ADDRESS_IN_USE/, r.stderr);
    // Not restarted: an address in use is not freed by trying again.
    assert.doesNotMatch(r.stderr, /^\S+: restarting/m, r.stderr);
    assert.doesNotMatch(r.stderr, /run 2\)/, r.stderr);
  } finally {
    holder.close();
    await Deno.remove(dir, { recursive: true });
  }
});
