/**
 * `mycelium run` of a hybrid topology with the `execution` group's process
 * killed (SIGKILL) mid-run: the supervisor restarts it, the restarted group
 * rejoins the run, the run completes, and the summary accounts for every
 * signal (handled again after the restart, or lost with the dead process) and
 * says what the restart cost.
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { runTrading } from "../examples/trading/_run.ts";
import { freePorts, hybridTopology } from "../runtime/_split_topologies.ts";
import { ROOT } from "./_mycelium.ts";

/** Lines of a stream as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== "") yield rest;
}

/** Resolves once `path` holds at least `n` lines (the audit trail is writing). */
async function auditLines(path: string, n: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const text = await Deno.readTextFile(path);
      if (text.split("\n").length > n) return;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    // Polling a file for a condition (not standing in for one): nothing else announces progress.
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("killing the execution group mid-run: it restarts, the run completes, every signal is accounted for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_restart_" });
  const swaps = 16_000;
  const seed = 3;
  try {
    await Deno.writeTextFile(`${dir}/split.yaml`, hybridTopology({ basePort: freePorts(3) }));
    const audit = `${dir}/split.log`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
        "--allow-net",
        `--allow-run=${Deno.execPath()}`,
        "cli.ts",
        "run",
        `${dir}/split.yaml`,
        "--all-hosts",
        "--socket-dir",
        `${dir}/sockets`,
        "--swaps",
        String(swaps),
        "--seed",
        String(seed),
        "--rate",
        "4000",
        "--audit",
        audit,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr: string[] = [];
    const executor = Promise.withResolvers<number>();
    const reading = (async () => {
      for await (const line of lines(child.stderr)) {
        stderr.push(line);
        const m = /^execution: started \(pid (\d+), run 1\)/.exec(line);
        if (m !== null) executor.resolve(Number(m[1]));
      }
      executor.reject(new Error(`the execution group never started:\n${stderr.join("\n")}`));
    })();
    const pid = await executor.promise;
    // Mid-run: signals are flowing through the executor when it dies. (The audit trail
    // writes in 64 KiB blocks, so this is its first block, a sixth of the way in.)
    await auditLines(audit, 1, AbortSignal.timeout(60_000));
    Deno.kill(pid, "SIGKILL");
    const status = await child.status;
    await reading;
    const out = await stdout;
    const err = stderr.join("\n");

    assert.equal(status.code, EXIT_CODES.OK, `${out}\n${err}`);
    assert.match(err, /^execution: exited with signal SIGKILL/m);
    assert.match(err, /^execution: started \(pid \d+, run 2\)/m);
    assert.equal((err.match(/: completed$/gm) ?? []).length, 3, err);
    assert.match(out, /completed {5}yes/);
    // What the restart cost: the execution group restarted once; its peers reconnected to
    // the new instance and resent what it had not acknowledged; it held what they had
    // buffered until it could reach everything; the executor keeps no state the run needs.
    const recovery = new RegExp(
      "^ {2}recovery {6}restarted: execution ×1; peers reconnected to a new instance (\\d+) times " +
        "and resent (\\d+) frames it had not acknowledged; (\\d+) messages held until it was ready; " +
        "state lost: none; (\\d+) replies matched no pending request",
      "m",
    ).exec(out);
    assert.ok(recovery !== null, `no recovery line in:\n${out}`);
    // hot_path and compliance both link to execution: each sees its new instance once. (How
    // many messages the new instance held depends on when it linked: the line must say it.)
    assert.equal(Number(recovery[1]), 2, recovery[0]);
    assert.match(
      out,
      /^ {2}links {9}6 link ends; \d+ messages sent[^;]*; .*0 dropped or undelivered; /m,
    );
    // Its counters restarted with it: the figures come from the audit trail's ledger.
    assert.match(
      out,
      /^ {16}fills, refusals and P&L above come from the audit trail's ledger/m,
    );
    assert.match(out, /^order_executor +execution +mailbox +\d+ /m);

    // The ledger accounts for every signal the strategy sent: booked once, or named as lost.
    const signals = Number(/signals {7}(\d+) /.exec(out)![1]);
    const delivery = /delivery {6}(\d+) signals sent; (\d+) executions booked/.exec(out);
    const clean = /delivery {6}every signal executed once \((\d+) sent, (\d+) booked/.exec(out);
    assert.ok(delivery !== null || clean !== null, `no delivery line in:\n${out}`);
    const [sent, booked] = (delivery ?? clean)!.slice(1).map(Number);
    const lost = Number(/(\d+) lost in flight/.exec(out)?.[1] ?? 0);
    assert.equal(sent, signals);

    // The audit file: each id's first signal and execution once; what came again marked `repeat`.
    const text = await Deno.readTextFile(audit);
    const first = text.split("\n").filter((l) => l !== "" && !l.startsWith("repeat "));
    const repeats = text.split("\n").filter((l) => l.startsWith("repeat "));
    const execIds = first.filter((l) => l.startsWith("exec ")).map((l) => l.split(" ")[1]);
    assert.equal(new Set(execIds).size, execIds.length, "an execution booked twice");
    assert.equal(execIds.length, booked);
    const lostIds = /lost in flight .*: ids ([\d, ]+)/.exec(out)?.[1]?.trim().split(", ") ?? [];
    for (const id of lostIds) assert.ok(!execIds.includes(id), `lost id ${id} was executed`);
    const handledAgain = Number(/(\d+) handled again after a restart/.exec(out)?.[1] ?? 0);
    assert.equal(repeats.filter((l) => l.startsWith("repeat exec ")).length, handledAgain);
    // A signal handled again reached the new instance because a peer resent it.
    if (handledAgain > 0) assert.ok(Number(recovery[2]) > 0, recovery[0]);

    // What the monolith does with the same swaps.
    const { total, audit: monoAudit } = await runTrading({ swaps, seed });
    const monolith = total.app;
    const mono = monoAudit.split("\n").filter((l) => l !== "").map((l) => `${l}\n`);
    assert.equal(signals, monolith.signals);
    // Every signal the monolith traded is in the audit file once, or named as lost.
    assert.equal(execIds.length + lost, monolith.signals);
    if (lost === 0) {
      // Nothing was lost: apart from the marked repeats, the run is the monolith's, byte for byte.
      assert.equal(first.map((l) => `${l}\n`).join(""), mono.join(""));
      assert.match(
        out,
        new RegExp(`filled ${monolith.fills}, refused by risk ${monolith.refused}`),
      );
    } else {
      // Lost signals are named; every signal booked is one the monolith wrote too (executions
      // after a lost one may differ: its risk reservation was never released).
      const monoLines = new Set(mono);
      for (const l of first.filter((l) => l.startsWith("signal "))) {
        assert.ok(monoLines.has(`${l}\n`), l);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
