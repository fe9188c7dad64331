/**
 * What each entry point pulls in, and whether `mod.ts` works for another
 * project: `deno info --json` gives the module graph; a program in a temp
 * directory outside the repository (no deno.json, so no import map and no
 * lockfile of ours) imports `mod.ts` by its absolute path and is
 * type-checked and run.
 */
import assert from "node:assert/strict";
import { deno } from "../_deno.ts";

const ROOT = new URL("../../", import.meta.url);
const MOD = new URL("mod.ts", ROOT);

/** npm packages only the files in bench/ use (bench/deno.json lists them). */
const BENCH_ONLY_PACKAGES = [
  "protobufjs",
  "msgpackr",
  "msgpackr-extract",
  "flatbuffers",
];

/** The NATS client: src/transport/nats.ts loads it, only when a topology uses nats. */
const NATS_CLIENT = "@nats-io/transport-node";
/** The JetStream API: src/transport/nats_jetstream.ts loads it, only when a group asks for it. */
const JETSTREAM = "@nats-io/jetstream";

/** The part of `deno info --json` these tests read. */
interface ModuleGraph {
  modules: {
    specifier: string;
    kind?: string;
    npmPackage?: string;
    dependencies?: { specifier: string; isDynamic?: boolean }[];
  }[];
  npmPackages: Record<string, { name: string; dependencies: string[] }>;
}

async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const r = await deno(["info", "--json", entry], ROOT);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ModuleGraph;
}

/**
 * Names of the npm packages the graph loads: the packages its `npm:` modules
 * point at and everything they depend on. (`npmPackages` alone is not the
 * answer: it lists the whole lockfile snapshot, benchmark packages included.)
 */
function npmPackagesLoaded(graph: ModuleGraph): Set<string> {
  const names = new Set<string>();
  const pending = graph.modules.flatMap((m) => m.npmPackage === undefined ? [] : [m.npmPackage]);
  const seen = new Set<string>();
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const pkg = graph.npmPackages[id];
    assert.ok(pkg !== undefined, `the graph names npm package ${id} but deno info lists no such`);
    names.add(pkg.name);
    pending.push(...pkg.dependencies);
  }
  return names;
}

Deno.test("mod.ts loads no example and no module of src/pipeline/", async () => {
  const graph = await moduleGraph("mod.ts");
  // src/pipeline/ held the trading app before it moved to examples/: it must not come back.
  const banned = [new URL("examples/", ROOT).href, new URL("src/pipeline/", ROOT).href];
  const found = graph.modules
    .map((m) => m.specifier)
    .filter((specifier) => banned.some((prefix) => specifier.startsWith(prefix)));
  assert.deepEqual(found, [], "mod.ts is the framework only: applications stay outside it");
});

Deno.test("cli.ts loads none of the benchmark-only npm packages", async () => {
  const graph = await moduleGraph("cli.ts");
  const loaded = npmPackagesLoaded(graph);
  assert.ok(loaded.size > 0, "cli.ts should load its own npm packages (yaml, zod, optique)");
  assert.deepEqual(BENCH_ONLY_PACKAGES.filter((name) => loaded.has(name)), []);
  // A bare import of one (even a dynamic one, which `deno info` lists but
  // never loads) would resolve only through bench/deno.json.
  const mentions = graph.modules.flatMap((m) =>
    (m.dependencies ?? [])
      .map((d) => d.specifier)
      .filter((s) => BENCH_ONLY_PACKAGES.some((name) => s === name || s.includes(`${name}@`)))
      .map((s) => `${m.specifier} imports ${s}`)
  );
  assert.deepEqual(mentions, []);
});

for (
  const [pkg, file] of [[NATS_CLIENT, "src/transport/nats.ts"], [
    JETSTREAM,
    "src/transport/nats_jetstream.ts",
  ]] as const
) {
  Deno.test(`cli.ts reaches ${pkg} only through the dynamic import in ${file}`, async () => {
    const graph = await moduleGraph("cli.ts");
    const imports = graph.modules.flatMap((m) =>
      (m.dependencies ?? [])
        .filter((d) => d.specifier.includes(pkg))
        .map((d) => ({ from: m.specifier, specifier: d.specifier, dynamic: d.isDynamic === true }))
    );
    // A monolith (and `deno task start`, which runs with --cached-only) never loads it; the
    // literal specifier keeps it in what `deno compile` embeds.
    assert.deepEqual(imports, [{
      from: new URL(file, ROOT).href,
      specifier: `npm:${pkg}@3.4.0`,
      dynamic: true,
    }]);
  });
}

/** A user's program: its own message type, a codec round trip, an actor on a MessageBus. */
function userProgram(mod: string): string {
  return `import { defineMessage, field, type MessageOf, MessageBus, on } from ${
    JSON.stringify(mod)
  };

const Greeting = defineMessage({
  id: 4242,
  name: "Greeting",
  topic: "greetings",
  fields: { count: field.u32(), text: field.string() },
});
type Greeting = MessageOf<typeof Greeting>;

const sent: Greeting = { count: 3, text: "hello from outside" };
const decoded = Greeting.decode(Greeting.toBytes(sent));

const heard: string[] = [];
const bus = new MessageBus();
bus.spawn("greeter", {
  handlers: [on(Greeting, (greeting) => void heard.push(greeting.text.repeat(greeting.count)))],
});
await bus.send("greeter", Greeting, decoded);
await bus.close();

console.log(JSON.stringify({ decoded: { count: decoded.count, text: decoded.text }, heard }));
`;
}

Deno.test("a program outside the repository imports mod.ts by path, type-checks and runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_import_graph_" });
  try {
    assert.ok(
      !new URL(`file://${dir}/`).href.startsWith(ROOT.href),
      `${dir} must be outside the repository`,
    );
    await Deno.writeTextFile(`${dir}/main.ts`, userProgram(MOD.href));
    // --no-config: whatever deno.json might sit above the temp directory, ours is not used.
    const checked = await deno(["check", "--no-config", "main.ts"], dir);
    assert.equal(checked.code, 0, checked.stderr);
    const ran = await deno(["run", "--no-config", "main.ts"], dir);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(JSON.parse(ran.stdout), {
      decoded: { count: 3, text: "hello from outside" },
      heard: ["hello from outsidehello from outsidehello from outside"],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
