/**
 * runProcess: an app in one process or as one group, whatever the app;
 * lifecycles, fixed routes and the errors a wrong placement gets.
 */
import assert from "node:assert/strict";
import {
  type Actor,
  defineApp,
  defineMessage,
  field,
  on,
  parseTopology,
  runProcess,
  RuntimeError,
  sinkLogger,
} from "../../mod.ts";
import { runCli } from "../../src/cli/main.ts";

const Num = defineMessage({ id: 1, name: "Num", fields: { n: field.u32() } });
const Stop = defineMessage({ id: 2, name: "Stop", fields: {} });

/** A source sends 1..count to `to`, then Stop; a sink records what it got and ends the job. */
function job(count: number, routes: "fixed" | "none") {
  return defineApp({
    name: "nums",
    messages: [Num, Stop],
    lifecycle: "job",
    actors: {
      source: () => ({
        handlers: [],
        async start(ctx) {
          for (let n = 1; n <= count; n++) await ctx.publish(Num, { n });
          await ctx.publish(Stop, {});
        },
      }),
      sink: (env) => {
        const seen: number[] = [];
        const actor = {
          seen,
          handlers: [
            on(Num, ({ n }) => void seen.push(n)),
            on(Stop, () => env.done()),
          ],
        };
        return actor;
      },
    },
    ...(routes === "fixed" ? { routes: [{ type: Num, sync: ["sink" as const] }] } : {}),
    report: {
      part: (actors) => actors.sink?.seen,
      merge: (parts) => parts.find((p) => p !== undefined) ?? [],
      lines: (seen) => [`  seen ${seen.length}`],
    },
  });
}

const MONOLITH = parseTopology("topology:\n  mode: monolith\n  actors: { source:, sink: }\n");

Deno.test("runProcess runs a job until it is done, in order, with or without fixed routes", async () => {
  for (const routes of ["fixed", "none"] as const) {
    for (const routing of ["fixed", "bus"] as const) {
      const report = await runProcess(job(500, routes), { topology: MONOLITH, routing });
      assert.equal(report.completed, true);
      assert.deepEqual(report.app, Array.from({ length: 500 }, (_, i) => i + 1));
      const sink = report.actors.find((a) => a.name === "sink")!;
      assert.equal(sink.handled, 501, `${routes}/${routing}: every message counted once`);
      assert.equal(sink.delivery, routes === "fixed" && routing === "fixed" ? "direct" : "mailbox");
    }
  }
});

Deno.test("runProcess runs a service until its signal, then drains and reports completed", async () => {
  const got: number[] = [];
  const started = Promise.withResolvers<void>();
  const app = defineApp({
    name: "svc",
    messages: [Num],
    actors: {
      echo: (): Actor => ({
        handlers: [on(Num, ({ n }) => void got.push(n))],
        start: (ctx) => {
          started.resolve();
          return ctx.send("echo", Num, { n: 7 });
        },
      }),
    },
  });
  const stop = new AbortController();
  const run = runProcess(app, {
    topology: parseTopology("topology:\n  mode: monolith\n  actors: { echo: }\n"),
    signal: stop.signal,
  });
  await started.promise;
  stop.abort();
  const report = await run;
  assert.equal(report.completed, true);
  assert.equal(report.shutdown.drained, true);
  assert.deepEqual(got, [7]);
});

Deno.test("runProcess refuses a group that places an actor the app does not have", async () => {
  const topology = parseTopology(`topology:
  mode: hybrid
  socket_dir: /tmp
  process_groups:
    a: { actors: [source, sink] }
    b: { actors: [stranger] }
`);
  await assert.rejects(
    () => runProcess(job(1, "none"), { topology, group: "b" }),
    (e: unknown) =>
      e instanceof RuntimeError && e.code === "RUNTIME_PLAN" && /stranger/.test(e.message),
  );
});

Deno.test("a user app's validate and run agree: a topology placing an unknown actor fails both", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/t.yaml`;
    await Deno.writeTextFile(
      file,
      "topology:\n  mode: monolith\n  actors: { source:, sink:, feed: }\n",
    );
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    const validate = await runCli(job(1, "none"), ["validate", file], { io });
    const run = await runCli(job(1, "none"), ["run", file], { io });
    assert.equal(validate, 14, out.join("\n"));
    assert.equal(run, 14, out.join("\n"));
    assert.match(out.join("\n"), /'feed' is not an actor/);
    // And a file that places exactly the app's actors passes both.
    await Deno.writeTextFile(file, "topology:\n  mode: monolith\n  actors: { source:, sink: }\n");
    assert.equal(await runCli(job(3, "fixed"), ["validate", file], { io }), 0);
    assert.equal(await runCli(job(3, "fixed"), ["run", file], { io }), 0);
    assert.match(out.join("\n"), /^ {2}seen 3$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs every group of `app` in this process, linked over Unix sockets in a temp dir. */
async function runSplit(
  app: Parameters<typeof runProcess>[0],
  placement: Record<string, string[]>,
): Promise<Awaited<ReturnType<typeof runProcess>>[]> {
  const dir = await Deno.makeTempDir();
  try {
    const groups = Object.entries(placement).map(([g, actors]) =>
      `    ${g}: { actors: [${actors.join(", ")}], transport: unix_socket }`
    );
    const topology = parseTopology(
      `topology:\n  mode: hybrid\n  socket_dir: ${dir}\n  process_groups:\n${groups.join("\n")}\n`,
    );
    const quiet = sinkLogger(() => {}, { level: "error" });
    // A run that never ends fails (completed: false) instead of hanging the suite.
    const giveUp = new AbortController();
    const timer = setTimeout(() => giveUp.abort(), 30_000);
    try {
      return await Promise.all(
        Object.keys(placement).map((group) =>
          runProcess(app, { topology, group, logger: quiet, signal: giveUp.signal })
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a split job ends only when work still moving after done() has finished in every group", async () => {
  const Hop = defineMessage({ id: 3, name: "Hop", fields: { n: field.u32() } });
  const seen: string[] = [];
  const HOPS = 6;
  // Each hop takes a while, so the chain outlives one round of drain reports.
  const slowly = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
  const bouncer = (me: string, other: string) => () => ({
    handlers: [
      on(Hop, async ({ n }, ctx) => {
        seen.push(`${me}${n}`);
        await slowly();
        if (n < HOPS) await ctx.send(other, Hop, { n: n + 1 });
      }),
    ],
  });
  const app = defineApp({
    name: "tail",
    messages: [Hop],
    lifecycle: "job",
    actors: {
      kick: (env) => ({
        handlers: [],
        start: async (ctx) => {
          await ctx.send("b", Hop, { n: 0 });
          env.done();
        },
      }),
      b: bouncer("b", "c"),
      c: bouncer("c", "b"),
    },
  });
  const reports = await runSplit(app, { one: ["kick", "c"], two: ["b"] });
  assert.deepEqual(seen, ["b0", "c1", "b2", "c3", "b4", "c5", "b6"]);
  for (const r of reports) {
    assert.equal(r.completed, true, `${r.group} completed`);
    assert.equal(r.shutdown.discarded, 0);
  }
});

Deno.test("done() called from a factory ends a split job", async () => {
  const app = defineApp({
    name: "instant",
    messages: [Num],
    lifecycle: "job",
    actors: {
      w: (env) => {
        env.done();
        return { handlers: [on(Num, () => {})] };
      },
      v: () => ({ handlers: [on(Num, () => {})] }),
    },
  });
  const reports = await runSplit(app, { one: ["w"], two: ["v"] });
  assert.deepEqual(reports.map((r) => r.completed), [true, true]);
});

Deno.test("a split run times what reaches a route's sync target from another process", async () => {
  // The sink is a fixed route's sync target in its group; the source publishes from the other.
  const [one, two] = await runSplit(job(400, "fixed"), { one: ["source"], two: ["sink"] });
  assert.deepEqual(one!.app, undefined);
  assert.equal((two!.app as number[]).length, 400);
  const sink = two!.actors.find((a) => a.name === "sink")!;
  assert.equal(sink.delivery, "direct+mailbox");
  assert.equal(sink.handled, 401);
  // The source's Nums come over the link into the sink's mailbox: timed, first one and then
  // one in 8.
  assert.ok(
    sink.hop.samples + sink.queued.samples >= 400 / 8,
    `timed ${sink.hop.samples} + ${sink.queued.samples}`,
  );
  assert.ok(sink.hop.samples > 0 && sink.hop.p99Ns > 0);
});

Deno.test("runProcess: a route target without the handler is refused and everything opened is closed", async () => {
  const Other = defineMessage({ id: 4, name: "Other", fields: {} });
  let tornDown = false;
  const app = defineApp({
    name: "broken",
    messages: [Num, Other],
    lifecycle: "job",
    setup: () => ({ opened: true }),
    teardown: () => void (tornDown = true),
    actors: { y: () => ({ handlers: [on(Num, () => {})] }) },
    routes: [{ type: Other, sync: ["y"] }],
  });
  await assert.rejects(
    () =>
      runProcess(app, {
        topology: parseTopology("topology:\n  mode: monolith\n  actors: { y: }\n"),
      }),
    (e: unknown) => (e as { code?: string }).code === "BUS_NO_HANDLER",
  );
  assert.equal(tornDown, true, "the app's teardown ran");
});
