/**
 * The line the supervisor quotes from a child's stderr when it gives up:
 * the error line of an uncaught exception as Deno (and Node) print it, not a
 * stack frame, a cause, a source line or a version line.
 */
import assert from "node:assert/strict";
import { LastWords } from "../../src/supervisor/_last_words.ts";

function quoted(lines: readonly string[]): string | undefined {
  const words = new LastWords();
  for (const line of lines) words.add(line);
  return words.line;
}

const HEADING = "error: Uncaught (in promise) Error: outer";

Deno.test("a plain last line is quoted as it is; blank lines are skipped", () => {
  assert.equal(
    quoted(["starting", "cannot listen on 127.0.0.1:7621 [X]", ""]),
    "cannot listen on 127.0.0.1:7621 [X]",
  );
  assert.equal(quoted([]), undefined);
});

Deno.test("an uncaught error: its error line, through source line, carets and frames", () => {
  assert.equal(
    quoted([HEADING, 'throw new Error("outer");', "      ^", "    at file:///a.ts:1:7"]),
    HEADING,
  );
});

Deno.test("an error with a cause: the outer error line, not the cause's", () => {
  const lines = [
    HEADING,
    'try { f(); } catch (e) { throw new Error("outer", { cause: e }); }',
    "                         ^",
    "    at file:///a.ts:2:36",
    "Caused by: Error: inner",
    "    at f (file:///a.ts:1:26)",
    "    at file:///a.ts:2:7",
  ];
  assert.equal(quoted(lines), HEADING);
});

Deno.test("an AggregateError: its own line, not its last inner error", () => {
  const heading = "error: Uncaught (in promise) AggregateError: All promises were rejected";
  const lines = [
    heading,
    "    Error: a",
    "        at file:///a.ts:1:35",
    "    TypeError: b",
    "        at file:///a.ts:1:72",
  ];
  assert.equal(quoted(lines), heading);
});

Deno.test("a message of several lines: the error line, not the source line", () => {
  const heading = "error: Uncaught (in promise) Error: first line";
  const lines = [
    heading,
    "second line",
    "third line",
    'throw new Error("first line\\n…");',
    "      ^",
    "    at file:///a.ts:1:7",
  ];
  assert.equal(quoted(lines), heading);
});

Deno.test("colour codes are removed", () => {
  assert.equal(
    quoted([
      "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught Error: x",
      "    at \x1b[36ma.ts\x1b[0m:1:1",
    ]),
    "error: Uncaught Error: x",
  );
});

Deno.test("console.error(e) or Node: the line before the trace, and Node's version line is not quoted", () => {
  assert.equal(quoted(["Error: boom", "    at main (file:///a.ts:3:9)"]), "Error: boom");
  const node = [
    "file:///x.js:1",
    "throw new Error('x')",
    "^",
    "",
    "Error: x",
    "    at file:///x.js:1:7",
    "",
    "Node.js v20.20.2",
  ];
  assert.equal(quoted(node), "Error: x");
});

Deno.test("a line after a trace ends it; an old error line is not quoted for a later trace", () => {
  assert.equal(quoted([HEADING, "    at file:///a.ts:1:7", "retrying", "gave up"]), "gave up");
  const later = [
    HEADING,
    "recovered",
    ...Array.from({ length: 9 }, (_, i) => `line ${i}`),
    "Error: later",
    "    at f (file:///a.ts:9:1)",
  ];
  assert.equal(quoted(later), "Error: later");
});
