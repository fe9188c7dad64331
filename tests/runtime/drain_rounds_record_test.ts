/**
 * {@linkcode DrainRounds}: reports from groups not in the rounds are not
 * taken, and a count the idle step gives is the round's count.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DrainRounds } from "../../src/runtime/_drain_rounds.ts";

Deno.test("drain rounds: a report from a group that left (or never took part) does not prolong them", async () => {
  const rounds = new DrainRounds("a", ["b", "c"]);
  rounds.leave("c");
  // `c` left: its later reports, and those of a group never in the rounds, are ignored.
  rounds.record(7, "c", 1n);
  rounds.record(9, "x", 1n);
  const published: number[] = [];
  const agreed = await rounds.run({
    idle: () => Promise.resolve(),
    handled: () => 3n,
    publish: (round) => {
      published.push(round);
      rounds.record(round, "b", 5n);
    },
    stopped: new Promise(() => {}),
  });
  assert.equal(agreed, true);
  assert.deepEqual(published, [1, 2], "two rounds with the same counts end them");
});

Deno.test("drain rounds: the count the idle step resolves with is the round's count", async () => {
  const rounds = new DrainRounds("a", ["b"]);
  const counts = [4n, 6n, 6n];
  const reported: bigint[] = [];
  const agreed = await rounds.run({
    idle: () => Promise.resolve(counts.shift()!),
    handled: () => {
      throw new Error("not asked when idle gives the count");
    },
    publish: (round, handled) => {
      reported.push(handled);
      rounds.record(round, "b", 0n);
    },
    stopped: new Promise(() => {}),
  });
  assert.equal(agreed, true);
  assert.deepEqual(reported, [4n, 6n, 6n]);
});
