/**
 * Bad input of any kind gets a TopologyError, never a crash: seeded mutations
 * of the example configs (characters deleted, duplicated or replaced, lines
 * swapped or dropped) either still load or fail with a located problem and a
 * fix.
 */
import assert from "node:assert/strict";
import { parseTopology, TopologyError, TopologyResolver } from "../../src/topology/mod.ts";
import { seededRandom as rng } from "../../examples/trading/seeded_random.ts";

const NOISE = [
  " ",
  ":",
  "-",
  "[",
  "]",
  "{",
  "}",
  "\t",
  "\n",
  '"',
  "x",
  "0",
  "&",
  "*",
  "#",
  "µ",
  ",",
];

function mutate(text: string, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const at = Math.floor(random() * text.length);
  switch (Math.floor(random() * 5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
    case 1:
      return text.slice(0, at) + pick(NOISE) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + text.slice(at, at + 12) + text.slice(at);
    case 3: {
      const lines = text.split("\n");
      const i = Math.floor(random() * lines.length);
      lines.splice(i, 1);
      return lines.join("\n");
    }
    default: {
      const lines = text.split("\n");
      const i = Math.floor(random() * (lines.length - 1));
      [lines[i], lines[i + 1]] = [lines[i + 1] ?? "", lines[i] ?? ""];
      return lines.join("\n");
    }
  }
}

for (const file of ["dev.yaml", "prod.yaml", "microservices.yaml"]) {
  Deno.test(`600 mutations of config/${file} load or fail with a located TopologyError`, async () => {
    const original = await Deno.readTextFile(new URL(`../../config/${file}`, import.meta.url));
    const random = rng(file.length * 7919);
    const lineCount = original.split("\n").length + 20;
    let failed = 0;
    for (let i = 0; i < 600; i++) {
      let text = original;
      const rounds = 1 + Math.floor(random() * 3);
      for (let r = 0; r < rounds; r++) text = mutate(text, random);
      try {
        const t = parseTopology(text, { file });
        new TopologyResolver(t).routeTable();
      } catch (e) {
        if (!(e instanceof TopologyError)) {
          throw new Error(`mutation ${i} threw ${String(e)}\n---\n${text}`, { cause: e });
        }
        failed++;
        for (const p of e.problems) {
          assert.ok(p.line >= 1 && p.line <= lineCount, `line ${p.line} in ${e.message}`);
          assert.ok(p.column >= 1, e.message);
          assert.ok(p.fix.length > 0 && p.problem.length > 0, e.message);
        }
      }
    }
    assert.ok(failed > 100, `only ${failed} mutations failed: the mutations are too gentle`);
  });
}
