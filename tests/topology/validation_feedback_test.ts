/**
 * What a newcomer's mistakes are told: the cause before its consequences,
 * fixes that use the file's own names and match the real problem, a key
 * written one level too far out called mis-indented, and several independent
 * problems in one run.
 */
import assert from "node:assert/strict";
import { errorOf, yaml } from "./_support.ts";
import { parseTopology } from "../../src/topology/mod.ts";
import { EXIT_CODES, exitCodeFor } from "../../src/cli/exit_codes.ts";

const APP = ["sensor", "calibrator", "aggregator", "alarm"];
const TRADING = /polygon|market_relay|arbitrage|order_executor|executor\.internal|hot_path/;

function summary(text: string, knownActors?: string[]) {
  const e = errorOf(text, knownActors === undefined ? {} : { knownActors });
  return e.problems.map((p) => [p.code, p.line, p.column, p.path, p.problem, p.fix]);
}

// ---- mis-indented keys and fixes in the user's own words -------------------

Deno.test("an `actors:` key one level too far out is called mis-indented, under the group above", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    source:",
      "      actors: [sensor, aggregator]",
      "    calib:",
      "    actors: [calibrator]",
      '    alarms: { actors: [alarm], transport: tcp, endpoint: "127.0.0.1:7621" }',
    ),
    { knownActors: APP },
  );
  assert.deepEqual(e.problems.map((p) => [p.line, p.column, p.path]), [
    [6, 5, "topology.process_groups.calib"],
    [7, 5, "topology.process_groups.actors"],
  ]);
  assert.match(
    e.problems[0]!.fix,
    /^indent 'actors:' \(line 7\) two spaces further, under 'calib:'$/,
  );
  assert.match(
    e.problems[1]!.problem,
    /^'actors' is a key of a process group, not a process group name: it looks mis-indented$/,
  );
  assert.match(e.problems[1]!.fix, /under 'calib:'/);
  for (const p of e.problems) assert.doesNotMatch(p.fix, TRADING);
});

Deno.test("a group key such as `transport:` or `host:` at the level of group names is mis-indented too", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    calib:",
      "      actors: [calibrator]",
      "    transport: unix",
    ),
  );
  assert.deepEqual(e.problems.map((p) => [p.line, p.path]), [[
    6,
    "topology.process_groups.transport",
  ]]);
  assert.match(e.problems[0]!.problem, /'transport' is a key of a process group/);
  assert.match(e.problems[0]!.fix, /under 'calib:'/);
});

Deno.test("an actor key at the level of actor names in mode distributed is mis-indented", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: distributed",
      "  actors:",
      "    sensor:",
      "    endpoint: '127.0.0.1:7001'",
    ),
  );
  assert.deepEqual(e.problems.map((p) => [p.line, p.path]), [[5, "topology.actors.endpoint"]]);
  assert.match(e.problems[0]!.problem, /'endpoint' is a key of an actor, not an actor name/);
  assert.match(e.problems[0]!.fix, /under 'sensor:'/);
});

Deno.test("fixes show the application's actors, else the file's, else placeholders: never the trading example's", () => {
  // The application's actors.
  const known = summary(
    yaml("topology:", "  mode: hybrid", "  process_groups:", "    g: { actors: sensor }"),
    APP,
  );
  assert.match(String(known[0]![5]), /e\.g\. actors: \[sensor, calibrator\]/);
  // The file's own actors, when the application's are not given.
  const own = summary(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    a: { actors: [pump] }",
      "    b: { actors: [valve] }",
      "  routes: pump",
    ),
  );
  assert.match(String(own[0]![5]), /e\.g\. - \{ from: pump, to: valve \}/);
  // Nothing to go by: placeholders.
  const none = summary(yaml("topology:", "  mode: monolith", "  actors: [x]"));
  assert.match(String(none[0]![5]), /e\.g\. my_actor: \{\}/);
  const broken = [
    yaml("topology:", "  mode: hybrid", "  process_groups: []"),
    yaml("topology:", "  mode: hybrid", "  process_groups:", "    g: 3"),
    yaml("topology:", "  mode: distributed", "  actors:", "    a: { endpoint: 8004 }"),
    yaml("topology:", "  mode: monolith", "  actors:", "    a: {}", "  routes: [3]"),
  ];
  for (const text of broken) {
    for (const p of errorOf(text).problems) assert.doesNotMatch(p.fix, TRADING, p.fix);
  }
});

// ---- the cause first, and its exit code ------------------------------------

Deno.test("a misspelt actor is reported as the cause, exits 14, and leaves no 'placed nowhere' problem", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    source: { actors: [sensor, agregator] }",
      "    calib: { actors: [calibrator], transport: unix_socket }",
      '    alarms: { actors: [alarm], transport: tcp, endpoint: "127.0.0.1:7621" }',
    ),
    { knownActors: APP },
  );
  assert.deepEqual(e.problems.map((p) => [p.code, p.line, p.column]), [
    ["TOPOLOGY_UNKNOWN_ACTOR", 4, 32],
  ]);
  assert.match(
    e.message,
    /'agregator' is not an actor of this application, and actor 'aggregator'/,
  );
  assert.match(e.fix, /^did you mean 'aggregator'\?/);
  assert.equal(exitCodeFor(e), 14);
  assert.equal(EXIT_CODES[e.code], 14);
});

Deno.test("actors placed nowhere come after the problems that may explain them, whatever their line", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    source: { actors: [sensor, zzz] }",
    ),
    { knownActors: APP },
  );
  assert.deepEqual(e.problems.map((p) => [p.code, p.line]), [
    ["TOPOLOGY_UNKNOWN_ACTOR", 4],
    ["TOPOLOGY_UNPLACED_ACTOR", 3],
    ["TOPOLOGY_UNPLACED_ACTOR", 3],
    ["TOPOLOGY_UNPLACED_ACTOR", 3],
  ]);
  assert.equal(exitCodeFor(e), 14);
  // Only missing actors: 16.
  const missing = errorOf(
    yaml("topology:", "  mode: monolith", "  actors:", "    sensor:"),
    { knownActors: ["sensor", "alarm"] },
  );
  assert.equal(missing.code, "TOPOLOGY_UNPLACED_ACTOR");
  assert.equal(exitCodeFor(missing), 16);
});

// ---- deployment shown as it runs ---------------------------------------------

Deno.test("a hybrid group that names no deployment is shown as its own process: isolated_process", () => {
  const t = parseTopology(yaml(
    "topology:",
    "  mode: hybrid",
    '  hosts: { local: "10.0.0.5" }',
    "  process_groups:",
    "    source: { actors: [sensor, aggregator] }",
    "    calib: { actors: [calibrator], deployment: same_process }",
    "    alarms: { actors: [alarm], host: box2 }",
  ));
  assert.deepEqual([...t.groups.values()].map((g) => [g.name, g.deployment]), [
    ["source", "isolated_process"],
    ["calib", "same_process"],
    ["alarms", "separate_machine"],
  ]);
  const mono = parseTopology(yaml("topology:", "  mode: monolith", "  actors:", "    a:"));
  assert.equal(mono.groups.get("main")?.deployment, "same_process");
});

// ---- a bare actor name in every mode ------------------------------------------

Deno.test("a bare `name:` places the actor with its defaults in mode distributed, as in monolith", () => {
  const bare = parseTopology(yaml(
    "topology:",
    "  mode: distributed",
    "  base_port: 7640",
    "  actors:",
    "    sensor:",
    "    alarm: {}",
  ));
  const braces = parseTopology(yaml(
    "topology:",
    "  mode: distributed",
    "  base_port: 7640",
    "  actors:",
    "    sensor: {}",
    "    alarm: {}",
  ));
  const shape = (t: typeof bare) =>
    [...t.groups.values()].map((g) => [g.name, g.host, g.deployment, g.transport, g.tcp]);
  assert.deepEqual(shape(bare), shape(braces));
  assert.deepEqual(bare.groups.get("sensor")?.tcp, { kind: "tcp", host: "127.0.0.1", port: 7640 });
});

// ---- endpoint fixes that match the problem ------------------------------------

Deno.test("a quoted endpoint whose port is out of range is told so, with a port that fits", () => {
  const e = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    '    alarms: { actors: [alarm], endpoint: "127.0.0.1:99999" }',
  ));
  assert.deepEqual([e.line, e.column, e.path], [4, 42, "topology.process_groups.alarms.endpoint"]);
  assert.match(e.message, /port 99999 of '127\.0\.0\.1:99999' is out of range/);
  assert.match(e.fix, /^use a port from 1 to 65535, e\.g\. endpoint: "127\.0\.0\.1:7400"$/);
  assert.doesNotMatch(e.fix, /in quotes/);
});

Deno.test("an endpoint without a host, or an IPv6 one without brackets, gets its own fix", () => {
  const fixOf = (endpoint: string) =>
    errorOf(
      yaml("topology:", "  mode: distributed", "  actors:", `    a: { endpoint: "${endpoint}" }`),
    )
      .fix;
  assert.match(
    fixOf("8004"),
    /name the host before the port, e\.g\. endpoint: "127\.0\.0\.1:8004"/,
  );
  assert.match(fixOf("::1:8004"), /put an IPv6 address in brackets/);
  assert.match(fixOf("box"), /the port is missing/);
});

Deno.test("a NATS server whose port is out of range is told so", () => {
  const e = errorOf(yaml(
    "nats: { servers: 'nats://10.0.0.5:70000' }",
    "topology:",
    "  mode: monolith",
    "  actors:",
    "    a:",
  ));
  assert.match(e.message, /port 70000 of 'nats:\/\/10\.0\.0\.5:70000' is out of range/);
  assert.match(e.fix, /use a port from 1 to 65535, e\.g\. "nats:\/\/10\.0\.0\.5:4222"/);
});

// ---- several independent problems in one run ------------------------------------

Deno.test("a misspelt mode is reported with the file's other problems, read as the mode it is closest to", () => {
  const keyTypo = errorOf(yaml(
    "topology:",
    "  mode: hybird",
    "  process_groups:",
    "    calib: { actors: [calibrator], transprot: unix_socket }",
  ));
  assert.deepEqual(keyTypo.problems.map((p) => [p.line, p.path]), [
    [2, "topology.mode"],
    [4, "topology.process_groups.calib.transprot"],
  ]);
  assert.match(keyTypo.problems[0]!.fix, /did you mean 'hybrid'\?/);
  assert.match(keyTypo.problems[1]!.fix, /did you mean 'transport'\?/);
  const portTypo = errorOf(yaml(
    "topology:",
    "  mode: hybird",
    "  process_groups:",
    '    alarms: { actors: [alarm], endpoint: "127.0.0.1:99999" }',
  ));
  assert.deepEqual(portTypo.problems.map((p) => [p.line, p.path]), [
    [2, "topology.mode"],
    [4, "topology.process_groups.alarms.endpoint"],
  ]);
  // A mode close to none: nothing to read the rest as.
  const unknown = errorOf(yaml(
    "topology:",
    "  mode: cluster",
    "  process_groups:",
    "    calib: { actors: [calibrator], transprot: unix_socket }",
  ));
  assert.deepEqual(unknown.problems.map((p) => p.path), ["topology.mode"]);
});

Deno.test("unknown keys do not hide the problems of the later stages, except where they may cause them", () => {
  const e = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    calib: { actors: [calibrator], transprot: unix_socket }",
    "    far: { actors: [sensor], deployment: separate_machine, hots: box2 }",
    '    alarms: { actors: [alarm], endpoint: "127.0.0.1:99999" }',
  ));
  // far's "separate_machine names the local host" comes from the misspelt host: not listed.
  assert.deepEqual(e.problems.map((p) => [p.line, p.path]), [
    [4, "topology.process_groups.calib.transprot"],
    [5, "topology.process_groups.far.hots"],
    [6, "topology.process_groups.alarms.endpoint"],
  ]);
  // A shape problem other than an unknown key stops there, as before.
  const typed = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    calib: { actors: [calibrator], transport: 3 }",
    '    alarms: { actors: [alarm], endpoint: "127.0.0.1:99999" }',
  ));
  assert.deepEqual(typed.problems.map((p) => p.path), ["topology.process_groups.calib.transport"]);
});

Deno.test("a swap of two neighbouring letters is one edit: tpc suggests tcp, hots suggests host", () => {
  const transport = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    alarms: { actors: [alarm], transport: tpc }",
  ));
  assert.match(transport.fix, /^did you mean 'tcp'\?/);
  const key = errorOf(yaml(
    "topology:",
    "  mode: hybrid",
    "  process_groups:",
    "    alarms: { actors: [alarm], hots: box2 }",
  ));
  assert.match(key.fix, /^did you mean 'host'\?/);
});

Deno.test("knownActors may be a one-shot iterator: it is read by every stage", () => {
  function* actors() {
    yield "sensor";
    yield "alarm";
  }
  const t = parseTopology(
    yaml("topology:", "  mode: monolith", "  actors:", "    sensor:", "    alarm:"),
    {
      knownActors: actors(),
    },
  );
  assert.equal(t.actors.size, 2);
  // Fixes' examples, then the later stages (after an unknown key) read them again.
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    sensor: { transprot: channel }",
      "    alarm:",
    ),
    { knownActors: actors() },
  );
  assert.deepEqual(e.problems.map((p) => p.path), ["topology.actors.sensor.transprot"]);
});
