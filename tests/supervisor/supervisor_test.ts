import assert from "node:assert/strict";
import {
  type ChildOutputLine,
  Supervisor,
  SupervisorError,
  type SupervisorEvent,
} from "../../src/supervisor/mod.ts";
import { eventsOf, fixtureChild, Recorder } from "./_support.ts";

function record() {
  const events = new Recorder<SupervisorEvent>();
  const lines = new Recorder<ChildOutputLine>();
  return { events, lines, options: { onEvent: events.push, onOutput: lines.push } };
}

Deno.test("a child that crashes twice then stays up is restarted with growing delays", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_supervisor_" });
  try {
    const { events, lines, options } = record();
    const supervisor = new Supervisor([fixtureChild("flaky", "flaky", `${dir}/count`, "2")], {
      ...options,
      restart: { initialDelayMs: 20, factor: 2, jitter: 0.2, maxRestarts: 5 },
    });
    await lines.waitFor((l) => l.text === "ready", "the third run's ready line");
    await supervisor.close();
    const outcome = await supervisor.done();

    const delays = eventsOf(events.items, "restarting").map((e) => e.delayMs);
    assert.equal(delays.length, 2);
    const [first, second] = delays as [number, number];
    assert.ok(first >= 20 && first <= 24, `first delay ${first}`);
    assert.ok(second >= 40 && second <= 48, `second delay ${second}`);
    assert.ok(second > first);
    assert.deepEqual(eventsOf(events.items, "restarting").map((e) => e.restart), [1, 2]);
    assert.deepEqual(eventsOf(events.items, "started").map((e) => e.run), [1, 2, 3]);
    const exits = eventsOf(events.items, "exited");
    assert.deepEqual(exits.map((e) => [e.code, e.requested]), [[3, false], [3, false], [0, true]]);
    assert.deepEqual(
      lines.items.map((l) => `${l.stream} ${l.text}`),
      ["stderr crash 1", "stderr crash 2", "stdout ready", "stdout bye"],
    );
    assert.equal(outcome.reason, "closed");
    assert.deepEqual(outcome.children, [
      { name: "flaky", runs: 3, restarts: 2, lastCode: 0, lastSignal: null },
    ]);
    assert.equal(events.items.at(-1)?.type, "finished");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a child over the restart limit fails the supervisor and stops the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_supervisor_" });
  try {
    const { events, options } = record();
    const supervisor = new Supervisor([
      fixtureChild("steady", "graceful"),
      fixtureChild("doomed", "flaky", `${dir}/count`, "1000"),
    ], { ...options, restart: { initialDelayMs: 5, maxRestarts: 2 } });
    const error = await supervisor.done().then(
      () => assert.fail("done() should reject"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SupervisorError);
    assert.equal(error.code, "SUPERVISOR_CHILD_FAILED");
    assert.equal(error.child, "doomed");
    assert.equal(error.exitCode, 3);
    assert.equal(error.exitSignal, null);
    assert.equal(error.restarts, 2);
    assert.equal(await Deno.readTextFile(`${dir}/count`), "3");

    const doomed = events.items.filter((e) => "child" in e && e.child === "doomed");
    assert.deepEqual(
      doomed.map((e) => e.type),
      [
        "started",
        "exited",
        "restarting",
        "started",
        "exited",
        "restarting",
        "started",
        "exited",
        "gave-up",
      ],
    );
    const gaveUp = eventsOf(events.items, "gave-up")[0];
    assert.equal(gaveUp?.error, error);
    // The healthy child was stopped, not left running.
    const steadyExit = eventsOf(events.items, "exited").find((e) => e.child === "steady");
    assert.equal(steadyExit?.requested, true);
    assert.deepEqual(events.items.at(-1), { type: "finished", reason: "failed" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() SIGKILLs a child that ignores SIGTERM once the deadline has passed", async () => {
  const { events, lines, options } = record();
  const supervisor = new Supervisor([
    fixtureChild("polite", "graceful"),
    fixtureChild("stubborn", "stubborn"),
  ], options);
  await lines.waitFor((l) => l.child === "polite" && l.text === "ready", "polite ready");
  await lines.waitFor((l) => l.child === "stubborn" && l.text === "ready", "stubborn ready");
  // Long enough for the polite child to exit on a loaded machine; the stubborn one waits it out.
  const closing = supervisor.close({ deadlineMs: 2_000 });
  assert.equal(supervisor.close(), closing, "close() is idempotent");
  await closing;

  const stopping = eventsOf(events.items, "stopping").map((e) => `${e.child} ${e.signal}`);
  assert.deepEqual(stopping, ["polite SIGTERM", "stubborn SIGTERM", "stubborn SIGKILL"]);
  const exits = new Map(eventsOf(events.items, "exited").map((e) => [e.child, e]));
  assert.equal(exits.get("polite")?.code, 0);
  assert.equal(exits.get("polite")?.signal, null);
  assert.equal(exits.get("stubborn")?.signal, "SIGKILL");
  assert.ok(lines.items.some((l) => l.child === "stubborn" && l.text === "ignoring SIGTERM"));
  assert.equal((await supervisor.done()).reason, "closed");
  assert.equal(supervisor.pids().size, 0);
});

Deno.test("kill() ends a child that ignores SIGTERM without waiting for the deadline", async () => {
  const { events, lines, options } = record();
  const supervisor = new Supervisor([fixtureChild("stubborn", "stubborn")], options);
  await lines.waitFor((l) => l.text === "ready", "ready");
  const closing = supervisor.close({ deadlineMs: 600_000 });
  await events.waitFor((e) => e.type === "stopping" && e.signal === "SIGTERM", "SIGTERM sent");
  supervisor.kill();
  await closing;
  const exit = eventsOf(events.items, "exited")[0];
  assert.equal(exit?.signal, "SIGKILL");
  assert.equal(exit?.requested, true);
});

Deno.test("a child that exits 0 on its own completes, is not restarted, and done() resolves", async () => {
  const { events, options } = record();
  const supervisor = new Supervisor([fixtureChild("once", "echo")], options);
  const outcome = await supervisor.done();
  assert.equal(outcome.reason, "completed");
  assert.deepEqual(events.items.map((e) => e.type), ["started", "exited", "completed", "finished"]);
  assert.deepEqual(outcome.children, [
    { name: "once", runs: 1, restarts: 0, lastCode: 0, lastSignal: null },
  ]);
  await supervisor.close(); // closing a finished supervisor is a no-op
  assert.equal(eventsOf(events.items, "stopping").length, 0);
});

Deno.test("piped output lines are prefixed with the child's name, aligned on the longest", async () => {
  const { lines, options } = record();
  await using supervisor = new Supervisor([
    fixtureChild("a", "echo"),
    fixtureChild("longer", "echo"),
  ], options);
  await supervisor.done();
  const of = (child: string, stream: string) =>
    lines.items.filter((l) => l.child === child && l.stream === stream).map((l) => l.prefixed);
  assert.deepEqual(of("a", "stdout"), [
    "a      | hello",
    "a      | world",
    "a      | ",
    "a      | last without newline",
  ]);
  assert.deepEqual(of("longer", "stdout"), [
    "longer | hello",
    "longer | world",
    "longer | ",
    "longer | last without newline",
  ]);
  assert.deepEqual(of("a", "stderr"), ["a      | oops"]);
});

Deno.test("output 'null' discards children's output and still supervises them", async () => {
  const { events, lines, options } = record();
  const supervisor = new Supervisor([fixtureChild("quiet", "echo")], {
    ...options,
    output: "null",
  });
  assert.equal((await supervisor.done()).reason, "completed");
  assert.equal(lines.items.length, 0);
  assert.equal(eventsOf(events.items, "exited")[0]?.code, 0);
});

Deno.test("a command that cannot be spawned fails the supervisor with SUPERVISOR_SPAWN", async () => {
  const { events, options } = record();
  const supervisor = new Supervisor([
    { name: "ghost", command: "/nonexistent/mycelium-ghost" },
  ], options);
  await assert.rejects(supervisor.done(), (e: unknown) => {
    assert.ok(e instanceof SupervisorError);
    assert.equal(e.code, "SUPERVISOR_SPAWN");
    assert.equal(e.child, "ghost");
    assert.match(e.message, /cannot start 'ghost'/);
    return true;
  });
  assert.deepEqual(events.items.map((e) => e.type), ["gave-up", "finished"]);
});

Deno.test("aborting the signal option closes the supervisor", async () => {
  const { events, lines, options } = record();
  const controller = new AbortController();
  const supervisor = new Supervisor([fixtureChild("worker", "graceful")], {
    ...options,
    signal: controller.signal,
  });
  await lines.waitFor((l) => l.text === "ready", "ready");
  controller.abort();
  assert.equal((await supervisor.done()).reason, "closed");
  assert.ok(lines.items.some((l) => l.text === "bye"), "the child got SIGTERM and said bye");
  assert.equal(eventsOf(events.items, "exited")[0]?.requested, true);
});

Deno.test("an already aborted signal starts no child", async () => {
  const { events, options } = record();
  const supervisor = new Supervisor([fixtureChild("worker", "graceful")], {
    ...options,
    signal: AbortSignal.abort(),
  });
  const outcome = await supervisor.done();
  assert.equal(outcome.reason, "closed");
  assert.deepEqual(events.items, [{ type: "finished", reason: "closed" }]);
  assert.equal(outcome.children[0]?.runs, 0);
});

Deno.test("bad children and options are rejected with typed errors before anything starts", () => {
  const child = { name: "a", command: Deno.execPath() };
  const cases: [ConstructorParameters<typeof Supervisor>, string, RegExp][] = [
    [[[]], "SUPERVISOR_INVALID_CHILD", /no child/],
    [[[child, child]], "SUPERVISOR_INVALID_CHILD", /two children are named 'a'/],
    [[[{ name: " ", command: "x" }]], "SUPERVISOR_INVALID_CHILD", /empty name/],
    [[[{ name: "b", command: "" }]], "SUPERVISOR_INVALID_CHILD", /'b' has an empty command/],
    [
      [[child], { restart: { jitter: 2 } }],
      "SUPERVISOR_INVALID_OPTIONS",
      /jitter must be at most 1/,
    ],
    [
      [[child], { restart: { initialDelayMs: -1 } }],
      "SUPERVISOR_INVALID_OPTIONS",
      /initialDelayMs/,
    ],
    [[[child], { restart: { maxRestarts: 1.5 } }], "SUPERVISOR_INVALID_OPTIONS", /whole number/],
    [[[child], { closeDeadlineMs: Number.NaN }], "SUPERVISOR_INVALID_OPTIONS", /closeDeadlineMs/],
  ];
  for (const [args, code, message] of cases) {
    assert.throws(() => new Supervisor(...args), (e: unknown) => {
      assert.ok(e instanceof SupervisorError);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("a child killed from outside (SIGKILL) is restarted, as a crash", async () => {
  const { events, lines, options } = record();
  const supervisor = new Supervisor([fixtureChild("execution", "graceful")], {
    ...options,
    restart: { initialDelayMs: 1 },
  });
  await lines.waitFor((l) => l.text === "ready", "first ready");
  const pid = supervisor.pids().get("execution");
  assert.ok(pid !== undefined);
  Deno.kill(pid, "SIGKILL");
  const restarted = await events.waitFor(
    (e) => e.type === "started" && e.run === 2,
    "the second start",
  );
  assert.ok(restarted.type === "started" && restarted.pid !== pid);
  await lines.waitFor((l) => l.text === "ready" && lines.items.indexOf(l) > 0, "second ready");
  await supervisor.close();
  const exits = eventsOf(events.items, "exited");
  assert.deepEqual(exits.map((e) => [e.signal, e.requested]), [["SIGKILL", false], [null, true]]);
  assert.equal(eventsOf(events.items, "restarting").length, 1);
  assert.equal((await supervisor.done()).children[0]?.restarts, 1);
});

Deno.test("a child exiting with a fatal exit code fails the supervisor without a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_supervisor_" });
  try {
    const { events, options } = record();
    const supervisor = new Supervisor([fixtureChild("bad-config", "flaky", `${dir}/count`, "9")], {
      ...options,
      restart: { initialDelayMs: 1, fatalExitCodes: [2, 3] },
    });
    await assert.rejects(supervisor.done(), (e: unknown) => {
      assert.ok(e instanceof SupervisorError);
      assert.equal(e.code, "SUPERVISOR_CHILD_FAILED");
      assert.equal(e.exitCode, 3);
      assert.equal(e.restarts, 0);
      assert.match(e.message, /'bad-config' exited with exit code 3, which restarting cannot fix/);
      return true;
    });
    assert.deepEqual(events.items.map((e) => e.type), ["started", "exited", "gave-up", "finished"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a child's stdin is a lifeline the supervisor holds open until the child exits", async () => {
  const held = record();
  const supervisor = new Supervisor([fixtureChild("held", "lifeline", "held")], held.options);
  await held.lines.waitFor((l) => l.text === "held ready", "ready");
  await supervisor.close();
  // Its stdin never ended while it ran: only the SIGTERM made it drain.
  assert.deepEqual(held.lines.items.map((l) => l.text), ["held ready", "held drained (SIGTERM)"]);

  const loose = record();
  const outcome = await new Supervisor([fixtureChild("loose", "lifeline", "loose")], {
    ...loose.options,
    lifeline: false,
  }).done();
  // Without the lifeline, stdin is /dev/null: it ends at once and the child drains by itself.
  assert.equal(outcome.reason, "completed");
  assert.deepEqual(loose.lines.items.map((l) => l.text), [
    "loose ready",
    "loose drained (lifeline)",
  ]);
});
