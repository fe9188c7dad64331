import assert from "node:assert/strict";
import { pumpLines } from "../../src/supervisor/_line_pump.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks);
}

async function linesOf(chunks: Uint8Array[], maxLineLength = 1 << 16): Promise<string[]> {
  const lines: string[] = [];
  await pumpLines(streamOf(chunks), maxLineLength, (l) => lines.push(l));
  return lines;
}

Deno.test("pumpLines joins lines split across reads, even inside a UTF-8 character", async () => {
  const bytes = new TextEncoder().encode("prix: 3 €\r\nsecond\n");
  const euro = bytes.indexOf(0xe2); // first byte of the three-byte €
  const lines = await linesOf([bytes.subarray(0, euro + 1), bytes.subarray(euro + 1)]);
  assert.deepEqual(lines, ["prix: 3 €", "second"]);
});

Deno.test("pumpLines passes on an unterminated last line and nothing for an empty stream", async () => {
  assert.deepEqual(await linesOf([new TextEncoder().encode("a\nb")]), ["a", "b"]);
  assert.deepEqual(await linesOf([]), []);
});

Deno.test("pumpLines cuts a line longer than the limit into pieces of the limit", async () => {
  const long = "x".repeat(25);
  const chunks = [long.slice(0, 7), long.slice(7), "\nend\n"].map((s) =>
    new TextEncoder().encode(s)
  );
  assert.deepEqual(await linesOf(chunks, 10), [
    "x".repeat(10),
    "x".repeat(10),
    "x".repeat(5),
    "end",
  ]);
});
