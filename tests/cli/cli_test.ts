/**
 * The `mycelium` CLI (`runCli` with the trading app, `cli.ts`) run as a real
 * child process (`deno run cli.ts …`).
 */
import assert from "node:assert/strict";
import { EXIT_CODES } from "../../src/cli/exit_codes.ts";
import { optionHint } from "../../src/cli/main.ts";
import { tradingApp } from "../../examples/trading/app.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** What the CLI needs: read configs, the config variable and the yaml package's two debug switches. */
const PERMISSIONS = ["--allow-read", "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM"];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: only what deno needs to find its cache, plus `env`. */
function baseEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, ...env };
}

async function mycelium(
  args: string[],
  options: { env?: Record<string, string>; permissions?: string[] } = {},
): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? PERMISSIONS), "cli.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: baseEnv(options.env ?? {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The trading app's actors, placed in a monolith topology (one `name: {}` line each). */
const PLACED = tradingApp.actorNames.map((name) => `    ${name}: {}`);

async function withTempFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_cli_" });
  try {
    const path = `${dir}/topology.yaml`;
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("mycelium --help lists every command and the app's description, and exits 0", async () => {
  const r = await mycelium(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (const command of ["run", "bench", "validate", "topology", "completion", "help"]) {
    assert.match(r.stdout, new RegExp(`^\\s+${command}\\s`, "m"), `no ${command} in\n${r.stdout}`);
  }
  // The codec demo is a module of the example now, not a command.
  assert.doesNotMatch(r.stdout, /^\s+demo\s/m);
  assert.ok(r.stdout.includes(tradingApp.description), r.stdout);
  assert.match(r.stdout, /MYCELIUM_CONFIG/);
});

Deno.test("every command has --help; run's lists the app's parameters", async () => {
  for (const command of ["run", "bench", "validate", "topology", "completion"]) {
    const r = await mycelium([command, "--help"]);
    assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: mycelium ${command}`), r.stdout);
  }
  const validate = await mycelium(["validate", "--help"]);
  assert.match(validate.stdout, /CONFIG/);
  // Checked against the app's own actors: no list to pass.
  assert.doesNotMatch(validate.stdout, /--actors/);
  const run = await mycelium(["run", "--help"]);
  for (const option of ["--swaps", "--seed", "--rate", "--audit", "--replay"]) {
    assert.match(
      run.stdout,
      new RegExp(`^\\s+${option}\\b`, "m"),
      `no ${option} in\n${run.stdout}`,
    );
  }
});

Deno.test("an unknown command or a bad option value exits with the usage code", async () => {
  const unknown = await mycelium(["frobnicate"]);
  assert.equal(unknown.code, EXIT_CODES.USAGE);
  assert.match(unknown.stderr, /frobnicate/);
  const bad = await mycelium(["run", "config/dev.yaml", "--swaps", "many"]);
  assert.equal(bad.code, EXIT_CODES.USAGE);
  assert.match(bad.stderr, /--swaps/);
  const small = await mycelium(["run", "config/dev.yaml", "--swaps", "0"]);
  assert.equal(small.code, EXIT_CODES.USAGE);
  assert.match(small.stderr, /--swaps/);
});

Deno.test("a misspelt option gets a fix naming the command's nearest option; a far one gets none", async () => {
  const near = await mycelium(["run", "config/dev.yaml", "--swps", "10"]);
  assert.equal(near.code, EXIT_CODES.USAGE);
  assert.match(near.stderr, /^ {2}fix: did you mean '--swaps'\?$/m, near.stderr);
  // validate has no --swaps: nothing of run's is offered.
  const other = await mycelium(["validate", "config/dev.yaml", "--swaps"]);
  assert.equal(other.code, EXIT_CODES.USAGE);
  assert.doesNotMatch(other.stderr, /did you mean/, other.stderr);
  const far = await mycelium(["run", "config/dev.yaml", "--zzzzzz"]);
  assert.equal(far.code, EXIT_CODES.USAGE);
  assert.doesNotMatch(far.stderr, /did you mean/, far.stderr);
});

Deno.test("mycelium validate accepts the three example configs: each places every actor of the app", async () => {
  for (const file of ["dev.yaml", "prod.yaml", "microservices.yaml"]) {
    const r = await mycelium(["validate", `config/${file}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^config/${file}: valid \\(mode \\w+, 7 actors in`));
  }
});

Deno.test("mycelium validate checks the topology against the app's actors and lists them in the fix", async () => {
  await withTempFile(
    ["topology:", "  mode: monolith", "  actors:", ...PLACED, "    relay: {}", ""].join("\n"),
    async (path) => {
      const r = await mycelium(["validate", path]);
      assert.equal(r.code, EXIT_CODES.TOPOLOGY_UNKNOWN_ACTOR, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        /: topology\.actors\.relay: 'relay' is not an actor of this application \[TOPOLOGY_UNKNOWN_ACTOR\]\n {2}fix: .*market_relay/,
      );
    },
  );
  await withTempFile(
    ["topology:", "  mode: monolith", "  actors:", ...PLACED.slice(1), ""].join("\n"),
    async (path) => {
      const r = await mycelium(["validate", path]);
      assert.equal(r.code, EXIT_CODES.TOPOLOGY_UNPLACED_ACTOR, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `actor '${tradingApp.actorNames[0]}' is placed nowhere \\[TOPOLOGY_UNPLACED_ACTOR\\]`,
        ),
      );
    },
  );
});

Deno.test("mycelium validate prints one line with the place and a fix line, and exits with the class's code", async () => {
  await withTempFile(
    [
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    execution:",
      "      actors: [order_executor]",
      "      transport: unix_sockt",
      "",
    ].join("\n"),
    async (path) => {
      const r = await mycelium(["validate", path]);
      assert.equal(r.code, EXIT_CODES.TOPOLOGY_INVALID);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.stderr.trimEnd().split("\n"), [
        `${path}:6:18: topology.process_groups.execution.transport: 'unix_sockt' is not a transport [TOPOLOGY_INVALID]`,
        "  fix: did you mean 'unix_socket'? use one of channel, unix, unix_socket, tcp, nats",
      ]);
    },
  );
});

Deno.test("mycelium validate exits 0 on a config that only has warnings, and prints them with a fix", async () => {
  await withTempFile(
    [
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [polygon_collector, market_relay, arbitrage_strategy, metrics_collector, order_executor] }",
      "    compliance: { actors: [audit_trail, risk_manager], deployment: separate_machine }",
      "",
    ].join("\n"),
    async (path) => {
      const r = await mycelium(["validate", path]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /: valid \(/);
      assert.match(
        r.stderr,
        new RegExp(
          `^warning: ${
            path.replaceAll(".", "\\.")
          }:1:1: topology: group 'hot_path' is dialled at 127\\.0\\.0\\.1`,
        ),
      );
      assert.match(r.stderr, /\n {2}fix: give this machine's address/);
    },
  );
});

Deno.test("mycelium validate exits with a distinct code per error class", async () => {
  const monolith = (...more: string[]) => [
    "topology:",
    "  mode: monolith",
    "  actors:",
    ...PLACED,
    ...more,
  ];
  const [first, second, ...rest] = tradingApp.actorNames;
  const cases: [keyof typeof EXIT_CODES, string[]][] = [
    ["TOPOLOGY_PARSE", ["topology: [monolith"]],
    ["TOPOLOGY_INVALID", ["topology:", "  mode: monolit"]],
    ["TOPOLOGY_BAD_UNIT", [...monolith(), "performance:", "  expected_latency: 3 days"]],
    ["TOPOLOGY_UNKNOWN_ACTOR", monolith(`  routes: [{ from: ${first}, to: b }]`)],
    [
      "TOPOLOGY_DUPLICATE_ACTOR",
      [
        "topology:",
        "  mode: hybrid",
        "  process_groups:",
        `    g: { actors: [${tradingApp.actorNames.join(", ")}] }`,
        `    h: { actors: [${first}] }`,
      ],
    ],
    ["TOPOLOGY_UNPLACED_ACTOR", ["topology:", "  mode: monolith", "  actors:", ...PLACED.slice(1)]],
    [
      "TOPOLOGY_ADDRESS_CONFLICT",
      [
        "topology:",
        "  mode: distributed",
        "  actors:",
        `    ${first}: { endpoint: "h:1" }`,
        `    ${second}: { endpoint: "h:1" }`,
        ...rest.map((name, i) => `    ${name}: { endpoint: "h:${i + 2}" }`),
      ],
    ],
    [
      "TOPOLOGY_TRANSPORT_CONFLICT",
      [
        "topology:",
        "  mode: monolith",
        "  actors:",
        `    ${first}: { transport: tcp }`,
        ...PLACED.slice(1),
      ],
    ],
  ];
  const seen = new Set<number>();
  for (const [code, lines] of cases) {
    await withTempFile(lines.join("\n") + "\n", async (path) => {
      const r = await mycelium(["validate", path]);
      assert.equal(r.code, EXIT_CODES[code], `${code}: ${r.stderr}`);
      assert.match(
        r.stderr,
        new RegExp(`^${path.replaceAll(".", "\\.")}:\\d+:\\d+: .*\\[${code}\\]\\n {2}fix: \\S`),
      );
      seen.add(r.code);
    });
  }
  assert.equal(seen.size, cases.length, "two classes share an exit code");
  const missing = await mycelium(["validate", "config/no_such.yaml"]);
  assert.equal(missing.code, EXIT_CODES.TOPOLOGY_READ);
  assert.match(
    missing.stderr,
    /^config\/no_such\.yaml: no such file \[TOPOLOGY_READ\]\n {2}fix: check the path/,
  );
});

Deno.test("the config path falls back to MYCELIUM_CONFIG, and its absence is a usage error with the fix", async () => {
  const fromEnv = await mycelium(["validate"], { env: { MYCELIUM_CONFIG: "config/prod.yaml" } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(fromEnv.stdout, /^config\/prod\.yaml: valid/);
  const argumentWins = await mycelium(["validate", "config/dev.yaml"], {
    env: { MYCELIUM_CONFIG: "config/prod.yaml" },
  });
  assert.match(argumentWins.stdout, /^config\/dev\.yaml: valid/);
  const none = await mycelium(["topology"]);
  assert.equal(none.code, EXIT_CODES.USAGE);
  assert.match(none.stderr, /no topology file given\n {2}fix: .*set MYCELIUM_CONFIG/);
});

Deno.test("without env permission the CLI says which variables the YAML parser needs", async () => {
  const r = await mycelium(["validate", "config/dev.yaml"], { permissions: ["--allow-read"] });
  assert.equal(r.code, EXIT_CODES.TOPOLOGY_READ);
  assert.match(
    r.stderr,
    /LOG_TOKENS and LOG_STREAM.*\n {2}fix: allow it: deno run --allow-env=LOG_TOKENS,LOG_STREAM/,
  );
});

Deno.test("mycelium topology prints the groups and each route with transport and expected cost", async () => {
  const r = await mycelium(["topology", "config/prod.yaml"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^config\/prod\.yaml: mode hybrid, 7 actors in 4 process groups on 2 hosts/,
  );
  assert.match(
    r.stdout,
    /^execution +local +isolated_process +order_executor +unix execution\.sock/m,
  );
  assert.match(r.stdout, /^from +to +transport +expected +throughput +cost from +why$/m);
  assert.match(
    r.stdout,
    /^polygon_collector +market_relay +channel +1µs +1M msg\/s +performance\.hot_path_latency +same group hot_path$/m,
  );
  assert.match(
    r.stdout,
    /^arbitrage_strategy +order_executor +unix +25µs .*performance\.execution_latency/m,
  );
  assert.match(
    r.stdout,
    /^order_executor +audit_trail +tcp +100µs .*performance\.compliance_latency/m,
  );
  assert.match(r.stdout, /^risk_manager +order_executor +tcp +27µs .*default tcp cost/m);
});

Deno.test("mycelium topology --json gives the same table as data", async () => {
  const r = await mycelium(["topology", "--json", "config/microservices.yaml"]);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout);
  assert.equal(data.mode, "distributed");
  assert.equal(data.routes.length, 8);
  assert.ok(data.routes.every((route: { transport: string }) => route.transport === "tcp"));
  const toExecutor = data.routes.find((route: { to: string }) => route.to === "order_executor");
  assert.equal(toExecutor.expectedLatencyNs, 80_000);
});

Deno.test("mycelium topology reports a broken config like validate does", async () => {
  const r = await mycelium(["topology", "config/no_such.yaml"]);
  assert.equal(r.code, EXIT_CODES.TOPOLOGY_READ);
  assert.equal(r.stdout, "");
});

Deno.test("mycelium completion prints a completion script for each shell Optique supports", async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await mycelium(["completion", shell]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mycelium/);
  }
  const none = await mycelium(["completion"]);
  assert.equal(none.code, EXIT_CODES.USAGE);
});

Deno.test("the option hint offers only the named command's own options", () => {
  const commands = new Map([
    ["run", { usage: [{ type: "option" as const, names: ["--mode", "--orders"] as const }] }],
    ["validate", { usage: [{ type: "option" as const, names: ["--measure"] as const }] }],
  ]);
  assert.equal(
    optionHint(commands, ["run", "x.yaml", "--ordres=3"]),
    "  fix: did you mean '--orders'?",
  );
  // validate has no --orders.
  assert.equal(optionHint(commands, ["validate", "--ordres"]), undefined);
  assert.equal(optionHint(commands, ["frob"]), undefined);
});
