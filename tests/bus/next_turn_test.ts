/**
 * `nextTurn`, the scheduler's yield to the event loop: its callback runs from
 * a later macrotask, a timer already due gets its turn by then, a cancelled
 * one never runs, and neither leaves a port open (an open one would keep a
 * process that has nothing else to do from exiting).
 */
import assert from "node:assert/strict";
import { nextTurn } from "../../src/bus/_turn.ts";

Deno.test("nextTurn runs its callback after the current task and its microtasks", async () => {
  const order: string[] = [];
  const done = Promise.withResolvers<void>();
  nextTurn(() => {
    order.push("turn");
    done.resolve();
  });
  queueMicrotask(() => order.push("microtask"));
  order.push("task");
  await done.promise;
  assert.deepEqual(order, ["task", "microtask", "turn"]);
});

Deno.test("a timer that is due fires by the time a chain of nextTurn yields has taken two", async () => {
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  // Make the timer overdue without giving the event loop a turn.
  const until = performance.now() + 5;
  while (performance.now() < until) { /* busy */ }
  let turns = 0;
  const done = Promise.withResolvers<void>();
  const step = () => {
    turns++;
    if (fired || turns === 10) done.resolve();
    else nextTurn(step);
  };
  nextTurn(step);
  await done.promise;
  clearTimeout(timer);
  assert.ok(fired, "the due timer never fired while the chain yielded");
  assert.ok(turns <= 2, `the due timer waited ${turns} turns`);
});

Deno.test("a cancelled nextTurn never runs", async () => {
  let ran = false;
  const cancel = nextTurn(() => ran = true);
  cancel();
  cancel(); // Idempotent.
  // Two later turns: the cancelled one would have run before them.
  await new Promise<void>((resolve) => nextTurn(() => nextTurn(resolve)));
  assert.equal(ran, false);
});

Deno.test("a process that used nextTurn (run and cancelled) exits when it has nothing else to do", async () => {
  const turn = new URL("../../src/bus/_turn.ts", import.meta.url).href;
  const script = `import { nextTurn } from "${turn}";
nextTurn(() => console.log("ran"));
nextTurn(() => console.log("cancelled one ran"))();`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
    // Only a bound for a failure: a leaked port keeps the child alive for good.
    signal: AbortSignal.timeout(20_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "ran\n");
});
