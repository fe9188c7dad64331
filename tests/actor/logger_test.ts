/**
 * The logger: sink, level filter, child sources, the null logger.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type LogRecord, NULL_LOGGER, sinkLogger } from "../../src/actor/mod.ts";
import { on } from "../../src/actor/mod.ts";
import { MessageBus } from "../../src/bus/message_bus.ts";
import { Tick, tick } from "../bus/_messages.ts";

Deno.test("sinkLogger hands records at or above its level to the sink", () => {
  const records: LogRecord[] = [];
  const log = sinkLogger((r) => records.push(r), { level: "info", source: "root" });
  log.debug("hidden");
  log.info("shown", { n: 1 });
  log.child("risk").error("halt");
  assert.deepEqual(records, [
    { level: "info", source: "root", message: "shown", fields: { n: 1 } },
    { level: "error", source: "risk", message: "halt", fields: undefined },
  ]);
});

Deno.test("NULL_LOGGER and its children accept records and keep nothing", () => {
  NULL_LOGGER.child("x").error("nowhere");
  assert.equal(typeof NULL_LOGGER.warn, "function");
});

Deno.test("an actor logs under its own name; the bus logs failures", async () => {
  const records: LogRecord[] = [];
  await using bus = new MessageBus({ logger: sinkLogger((r) => records.push(r)) });
  bus.spawn("risk", {
    handlers: [on(Tick, (m, ctx) => {
      ctx.log.warn("exposure high", { seq: m.seq });
      throw new Error("limit");
    })],
  }, { supervision: { strategy: "stop" } });
  await bus.send("risk", Tick, tick(3));
  await bus.idle();
  assert.deepEqual(records[0], {
    level: "warn",
    source: "risk",
    message: "exposure high",
    fields: { seq: 3 },
  });
  const failure = records.find((r) => r.level === "error");
  assert.equal(failure?.fields?.actor, "risk");
  assert.equal(failure?.fields?.messageType, "Tick");
  assert.equal((failure?.fields?.error as Error).message, "limit");
});
