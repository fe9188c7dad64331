/**
 * A word counter in four actors, the README's tour: a reader sends lines,
 * a splitter publishes their words, a counter counts them and a reporter
 * ends the job. Declared once; the topology decides where each runs.
 *
 * @module
 */
import { type Actor, defineApp, defineMessage, field, on, param } from "../../mod.ts";

const Line = defineMessage({ id: 1, name: "Line", fields: { text: field.string() } });
const Word = defineMessage({ id: 2, name: "Word", fields: { word: field.string() } });
const End = defineMessage({ id: 3, name: "End", fields: { lines: field.u32() } });
const Totals = defineMessage({
  id: 4,
  name: "Totals",
  fields: { words: field.u32(), distinct: field.u32(), top: field.string() },
});

const VOCABULARY = ["spore", "hypha", "root", "soil", "rain", "moss", "fern", "light"];

/** Counts words; when the text ends, sends its totals to the reporter. */
class Counter implements Actor {
  readonly counts = new Map<string, number>();
  words = 0;
  readonly handlers = [
    on(Word, ({ word }) => {
      this.words++;
      this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
    }),
    on(End, (_end, ctx) => {
      const top = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
      return ctx.send("reporter", Totals, {
        words: this.words,
        distinct: this.counts.size,
        top: top?.[0] ?? "",
      });
    }),
  ];
}

/** The word counter. */
export const wordCount = defineApp({
  name: "wordcount",
  description: "Counts the words of a seeded text with four actors.",
  version: "1.0.0",
  messages: [Line, Word, End, Totals],
  lifecycle: "job",
  params: {
    lines: param.integer({ description: "Lines of text to count.", default: 1000, min: 1 }),
  },
  actors: {
    reader: (env) => ({
      handlers: [],
      async start(ctx) {
        for (let i = 0; i < env.params.lines; i++) {
          const words = Array.from({ length: 1 + (i % 7) }, (_, j) => VOCABULARY[(i * j + i) % 8]);
          await ctx.send("splitter", Line, { text: words.join(" ") });
        }
        await ctx.send("splitter", End, { lines: env.params.lines });
      },
    }),
    splitter: () => ({
      handlers: [
        on(Line, async ({ text }, ctx) => {
          for (const word of text.split(" ")) await ctx.publish(Word, { word });
        }),
        on(End, (end, ctx) => ctx.send("counter", End, end)),
      ],
    }),
    counter: () => new Counter(),
    reporter: (env) => {
      const actor = {
        totals: undefined as { words: number; distinct: number; top: string } | undefined,
        handlers: [
          on(Totals, (totals) => {
            actor.totals = { ...totals };
            env.done();
          }),
        ],
      };
      return actor;
    },
  },
  report: {
    part: (actors) => actors.reporter?.totals,
    merge: (parts) => parts.find((p) => p !== undefined),
    lines: (t) => [
      `  words         ${t?.words ?? "-"} (${t?.distinct ?? "-"} distinct; most frequent: ${
        t?.top ?? "-"
      })`,
    ],
  },
});
