/**
 * When the supervisor gives up on a child, its final error carries the
 * child's last line on stderr (usually the cause, e.g. an address in use),
 * not only its exit code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Supervisor, SupervisorError } from "../../src/supervisor/mod.ts";
import { fixtureChild } from "./_support.ts";

async function failure(supervisor: Supervisor): Promise<SupervisorError> {
  const error = await supervisor.done().then(
    () => assert.fail("done() should reject"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SupervisorError);
  return error;
}

Deno.test("giving up after the restart limit quotes the child's last stderr line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_supervisor_" });
  try {
    // The flaky fixture writes `crash <n>` to stderr and exits 3.
    const supervisor = new Supervisor([fixtureChild("doomed", "flaky", `${dir}/count`, "1000")], {
      onOutput: () => {},
      restart: { initialDelayMs: 5, maxRestarts: 2 },
    });
    const error = await failure(supervisor);
    assert.equal(error.code, "SUPERVISOR_CHILD_FAILED");
    assert.equal(error.lastOutput, "crash 3", "the last run's line, not an earlier one");
    assert.match(error.message, /^'doomed' crashed \(exit code 3\) after 2 restarts/);
    assert.match(error.message, /; its last output: crash 3$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a fatal exit code fails at once, the child's last stderr line in the message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_supervisor_" });
  try {
    const supervisor = new Supervisor([fixtureChild("doomed", "flaky", `${dir}/count`, "1000")], {
      onOutput: () => {},
      restart: { initialDelayMs: 5, fatalExitCodes: [3] },
    });
    const error = await failure(supervisor);
    assert.equal(error.restarts, 0);
    assert.equal(error.lastOutput, "crash 1");
    assert.equal(
      error.message,
      "'doomed' exited with exit code 3, which restarting cannot fix; giving up; " +
        "its last output: crash 1",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a child that said nothing on stderr gives up without a quote", async () => {
  const supervisor = new Supervisor([{
    name: "mute",
    command: Deno.execPath(),
    args: ["eval", "console.log('only stdout'); Deno.exit(4)"],
  }], { onOutput: () => {}, restart: { fatalExitCodes: [4] } });
  const error = await failure(supervisor);
  assert.equal(error.lastOutput, undefined);
  assert.equal(
    error.message,
    "'mute' exited with exit code 4, which restarting cannot fix; giving up",
  );
});

Deno.test("a child that dies of an uncaught exception is quoted by its error line, not a stack frame", async () => {
  const supervisor = new Supervisor([{
    name: "thrower",
    command: Deno.execPath(),
    args: [
      "eval",
      "function listen() { throw new Error('address in use: 127.0.0.1:7000'); }\nlisten();",
    ],
  }], { onOutput: () => {}, restart: { fatalExitCodes: [1] } });
  const error = await failure(supervisor);
  assert.match(
    error.lastOutput ?? "",
    /^error: Uncaught .*Error: address in use: 127\.0\.0\.1:7000$/,
  );
  assert.match(error.message, /; its last output: error: Uncaught .*Error: address in use/);
});

Deno.test("a stack trace a child printed itself is quoted by the line above its frames", async () => {
  const supervisor = new Supervisor([{
    name: "logger",
    command: Deno.execPath(),
    args: [
      "eval",
      "console.error('starting'); console.error(new Error('no route to calibrator')); Deno.exit(5);",
    ],
  }], { onOutput: () => {}, restart: { fatalExitCodes: [5] } });
  const error = await failure(supervisor);
  assert.equal(error.lastOutput, "Error: no route to calibrator");
});

Deno.test("a child's last line that is not a stack frame is quoted as it is", async () => {
  const supervisor = new Supervisor([{
    name: "tracer",
    command: Deno.execPath(),
    args: [
      "eval",
      "console.error(new Error('handled')); console.error('giving up: the port is taken'); Deno.exit(6);",
    ],
  }], { onOutput: () => {}, restart: { fatalExitCodes: [6] } });
  const error = await failure(supervisor);
  assert.equal(error.lastOutput, "giving up: the port is taken");
});
