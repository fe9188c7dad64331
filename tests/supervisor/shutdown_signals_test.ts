/**
 * onShutdownSignals with the Supervisor, as `mycelium run` wires them: a
 * real supervisor process (fixtures/supervise.ts) with two real children,
 * signalled the way a terminal or a service manager would.
 */
import assert from "node:assert/strict";
import { pumpLines } from "../../src/supervisor/_line_pump.ts";
import { Recorder } from "./_support.ts";

const SUPERVISE = new URL("./fixtures/supervise.ts", import.meta.url).pathname;

function startSupervisor(mode: string, deadlineMs: number, detached = false, output = "piped") {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", SUPERVISE, mode, String(deadlineMs), output],
    detached,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Recorder<string>();
  const stderr = new Recorder<string>();
  const pumped = Promise.all([
    pumpLines(process.stdout, 1 << 16, stdout.push),
    pumpLines(process.stderr, 1 << 16, stderr.push),
  ]);
  const ready = Promise.all(
    output === "piped"
      ? [
        stdout.waitFor((l) => l === "alpha | ready", "alpha ready"),
        stdout.waitFor((l) => l === "b     | ready", "b ready"),
      ]
      : [
        stdout.waitFor((l) => l === "alpha ready", "alpha ready"),
        stdout.waitFor((l) => l === "b ready", "b ready"),
      ],
  );
  const finished = async () => {
    const [status] = await Promise.all([process.status, pumped]);
    return status;
  };
  return { process, stdout, stderr, ready, finished };
}

function childPids(stderr: readonly string[]): number[] {
  return stderr.flatMap((l) => {
    const m = /: started \(pid (\d+),/.exec(l);
    return m?.[1] === undefined ? [] : [Number(m[1])];
  });
}

async function isGone(pid: number): Promise<boolean> {
  // Through `cat`: Deno asks for --allow-all to read /proc directly.
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
    .output();
  if (!out.success) return true; // no such process
  const stat = new TextDecoder().decode(out.stdout);
  // A zombie waiting for its new parent to reap it does no more work.
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal} drains every child once and the supervisor exits 0`, async () => {
    const run = startSupervisor("graceful", 10_000);
    await run.ready;
    run.process.kill(signal);
    const status = await run.finished();
    assert.equal(status.code, 0, run.stderr.items.join("\n"));
    assert.ok(run.stdout.items.includes("alpha | bye"), run.stdout.items.join("\n"));
    assert.ok(run.stdout.items.includes("b     | bye"));
    assert.ok(run.stderr.items.includes(`received ${signal}`));
    assert.deepEqual(
      run.stderr.items.filter((l) => l.includes("sending")).map((l) => l.replace(/\d+$/, "N")),
      ["alpha: sending SIGTERM to pid N", "b: sending SIGTERM to pid N"],
    );
    assert.ok(run.stderr.items.includes("outcome closed"));
  });
}

Deno.test("Ctrl-C to the whole foreground process group reaches only the supervisor, which drains each child once", async () => {
  // The supervisor leads its own group here, as a shell's foreground job does;
  // a terminal's Ctrl-C is a SIGINT to that whole group.
  const run = startSupervisor("graceful", 10_000, true);
  await run.ready;
  Deno.kill(-run.process.pid, "SIGINT");
  const status = await run.finished();
  assert.equal(status.code, 0, run.stderr.items.join("\n"));
  // Children in the supervisor's group would have died of the SIGINT itself,
  // without a drain, and been counted as crashes.
  assert.ok(run.stdout.items.includes("alpha | bye"), run.stdout.items.join("\n"));
  assert.ok(run.stdout.items.includes("b     | bye"));
  assert.equal(run.stderr.items.filter((l) => l.includes("restarting")).length, 0);
});

Deno.test("a second SIGINT during the drain forces exit 130 and kills the children", async () => {
  const run = startSupervisor("stubborn", 600_000);
  await run.ready;
  const pids = childPids(run.stderr.items);
  assert.equal(pids.length, 2);
  run.process.kill("SIGINT");
  await run.stderr.waitFor((l) => l.startsWith("b: sending SIGTERM"), "the drain started");
  await run.stdout.waitFor((l) => l === "b     | ignoring SIGTERM", "b ignoring SIGTERM");
  run.process.kill("SIGINT");
  const status = await run.finished();
  assert.equal(status.code, 130, run.stderr.items.join("\n"));
  assert.ok(run.stderr.items.includes("forced by SIGINT"));
  assert.ok(!run.stderr.items.includes("outcome closed"));
  for (const pid of pids) assert.ok(await isGone(pid), `child ${pid} is still running`);
});

Deno.test("children of a SIGKILLed supervisor see their lifeline end and drain instead of living on", async () => {
  // Children write straight to this test's pipe, which therefore stays open
  // until they have exited: reading it to its end waits for them.
  const run = startSupervisor("lifeline", 10_000, false, "inherit");
  await run.ready;
  const pids = childPids(run.stderr.items);
  assert.equal(pids.length, 2);
  try {
    run.process.kill("SIGKILL");
    await run.stdout.waitFor((l) => l === "alpha drained (lifeline)", "alpha drained");
    await run.stdout.waitFor((l) => l === "b drained (lifeline)", "b drained");
  } finally {
    for (const pid of pids) {
      if (!(await isGone(pid))) Deno.kill(pid, "SIGKILL");
    }
    const status = await run.finished();
    assert.equal(status.signal, "SIGKILL");
  }
  // No child exited while the supervisor lived to report it: the lifeline held them until it died.
  assert.deepEqual(run.stderr.items.filter((l) => l.includes("exited")), []);
});
