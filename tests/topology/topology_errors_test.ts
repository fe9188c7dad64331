/**
 * Every class of topology error names the file, line, column, key and fix.
 */
import assert from "node:assert/strict";
import { errorOf, yaml } from "./_support.ts";
import {
  parseTopology,
  type ParseTopologyOptions,
  TopologyError,
  type TopologyErrorCode,
} from "../../src/topology/mod.ts";

/** Joins lines so that the line numbers in a test read off the array index + 1. */
interface Expected {
  code: TopologyErrorCode;
  line: number;
  column: number;
  path: string;
  problem: RegExp;
  fix: RegExp;
}

function assertProblem(
  text: string,
  want: Expected,
  options: ParseTopologyOptions = {},
): TopologyError {
  const e = errorOf(text, options);
  assert.equal(e.code, want.code, e.message);
  assert.equal(e.file, "config/t.yaml");
  assert.deepEqual([e.line, e.column], [want.line, want.column], e.message);
  assert.equal(e.path, want.path, e.message);
  assert.match(e.fix, want.fix, e.message);
  // The one line a person reads carries place, key, problem and fix.
  const prefix = `config/t.yaml:${want.line}:${want.column}: ${
    want.path === "" ? "" : `${want.path}: `
  }`;
  assert.ok(e.message.startsWith(prefix), `${e.message}\n  does not start with ${prefix}`);
  assert.match(e.message, want.problem);
  assert.ok(e.message.endsWith(`; ${e.fix}`), e.message);
  return e;
}

// ---- TOPOLOGY_PARSE -------------------------------------------------------

Deno.test("TOPOLOGY_PARSE: an unclosed bracket names its line and says to close it", () => {
  assertProblem(
    yaml("topology:", "  mode: hybrid", "  process_groups:", "    a: { actors: [x, y }"),
    {
      code: "TOPOLOGY_PARSE",
      line: 4,
      column: 24,
      path: "",
      problem: /YAML syntax/,
      fix: /close the bracket/,
    },
  );
});

Deno.test("TOPOLOGY_PARSE: a tab used for indentation is refused with the fix", () => {
  assertProblem(yaml("topology:", "\tmode: monolith"), {
    code: "TOPOLOGY_PARSE",
    line: 2,
    column: 1,
    path: "",
    problem: /Tabs/,
    fix: /indent with spaces, not tabs/,
  });
});

Deno.test("TOPOLOGY_PARSE: an alias whose anchor is missing names the alias and the fix", () => {
  assertProblem(
    yaml("topology:", "  mode: hybrid", "  process_groups:", "    a: { actors: [*rder_executor] }"),
    {
      code: "TOPOLOGY_PARSE",
      line: 4,
      column: 19,
      path: "",
      problem: /YAML: .*alias/,
      fix: /define the anchor/,
    },
  );
});

Deno.test("TOPOLOGY_PARSE: a key written twice names the second one and the first one's line", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [a] }",
      "    hot_path: { actors: [b] }",
    ),
    {
      code: "TOPOLOGY_PARSE",
      line: 5,
      column: 5,
      path: "topology.process_groups.hot_path",
      problem: /key 'hot_path' appears twice in this map \(first on line 4\)/,
      fix: /remove or rename one of the two/,
    },
  );
});

// ---- TOPOLOGY_INVALID -----------------------------------------------------

Deno.test("TOPOLOGY_INVALID: a misspelt transport lists the transports and suggests the closest", () => {
  const e = assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    execution:",
      "      actors: [order_executor]",
      "      transport: unix_sockt",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 6,
      column: 18,
      path: "topology.process_groups.execution.transport",
      problem: /'unix_sockt' is not a transport/,
      fix: /did you mean 'unix_socket'\? use one of channel, unix, unix_socket, tcp, nats$/,
    },
  );
  assert.equal(e.problems.length, 1);
});

Deno.test("TOPOLOGY_INVALID: an unknown mode lists the three modes", () => {
  assertProblem(yaml("topology:", "  mode: microservices"), {
    code: "TOPOLOGY_INVALID",
    line: 2,
    column: 9,
    path: "topology.mode",
    problem: /'microservices' is not a mode/,
    fix: /use one of monolith, hybrid, distributed/,
  });
});

Deno.test("TOPOLOGY_INVALID: an unknown key points at the key and lists the valid ones", () => {
  const e = assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    execution:",
      "      actors: [order_executor]",
      "      deploymnet: isolated_process",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 6,
      column: 7,
      path: "topology.process_groups.execution.deploymnet",
      problem: /unknown key 'deploymnet'/,
      fix: /did you mean 'deployment'\? valid keys here: actors, transport, deployment/,
    },
  );
  assert.equal(e.problems.length, 1);
});

Deno.test("TOPOLOGY_INVALID: a key of another mode says which mode it belongs to", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: {}",
      "  process_groups:",
      "    g: { actors: [a] }",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 5,
      column: 3,
      path: "topology.process_groups",
      problem: /unknown key 'process_groups'/,
      fix: /belongs to mode hybrid, not monolith/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: a topology key written at the top level says to indent it", () => {
  const e = errorOf(yaml("topology:", "  mode: hybrid", "process_groups:", "  g: { actors: [a] }"));
  const misplaced = e.problems.find((p) => p.path === "process_groups");
  assert.ok(misplaced, e.message);
  assert.equal(misplaced.code, "TOPOLOGY_INVALID");
  assert.deepEqual([misplaced.line, misplaced.column], [3, 1]);
  assert.equal(misplaced.problem, "unknown key 'process_groups'");
  assert.match(misplaced.fix, /indent it below 'topology:'/);
});

Deno.test("TOPOLOGY_INVALID: a budget written under topology: says where budgets go", () => {
  assertProblem(
    yaml("topology:", "  mode: monolith", "  actors: { a: {} }", '  expected_latency: "1ms"'),
    {
      code: "TOPOLOGY_INVALID",
      line: 4,
      column: 3,
      path: "topology.expected_latency",
      problem: /unknown key 'expected_latency'/,
      fix: /budgets belong under 'performance:' at the top level/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: a key left without a value says what to write", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    g:",
      "      actors: [a]",
      "      transport:",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 6,
      column: 7,
      path: "topology.process_groups.g.transport",
      problem: /'transport' has no value/,
      fix: /write one of channel, unix, unix_socket, tcp, nats/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: a missing key is reported at its parent with what to add", () => {
  assertProblem(yaml("topology:", "  mode: hybrid"), {
    code: "TOPOLOGY_INVALID",
    line: 2,
    column: 3,
    path: "topology.process_groups",
    problem: /'process_groups' is missing/,
    fix: /add process_groups: a map of group names/,
  });
  assertProblem(yaml("performance:", '  expected_latency: "1ms"'), {
    code: "TOPOLOGY_INVALID",
    line: 1,
    column: 1,
    path: "topology",
    problem: /'topology' is missing/,
    fix: /add topology:/,
  });
});

Deno.test("TOPOLOGY_INVALID: a value of the wrong type says what to write instead", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path:",
      "      actors: polygon_collector",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 5,
      column: 15,
      path: "topology.process_groups.hot_path.actors",
      problem: /expected a list, found 'polygon_collector'/,
      fix: /write a list of actor names, e.g. actors: \[/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: an empty file says how to start one", () => {
  assertProblem("# nothing yet\n", {
    code: "TOPOLOGY_INVALID",
    line: 1,
    column: 1,
    path: "",
    problem: /the file is empty/,
    fix: /start with 'topology:'/,
  });
});

Deno.test("TOPOLOGY_INVALID: an endpoint without a port shows the host:port form", () => {
  assertProblem(
    yaml("topology:", "  mode: distributed", "  actors:", "    a:", '      endpoint: "a.internal"'),
    {
      code: "TOPOLOGY_INVALID",
      line: 5,
      column: 17,
      path: "topology.actors.a.endpoint",
      problem: /'a\.internal' is not an endpoint/,
      fix: /host:port/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: separate_machine on the local host is refused", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    a: { actors: [x] }",
      "    b: { actors: [y], deployment: separate_machine, host: localhost }",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 5,
      column: 59,
      path: "topology.process_groups.b.host",
      problem: /separate_machine needs another machine/,
      fix: /name the other machine|isolated_process/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: an unknown performance key lists the keys that exist", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: {}",
      "performance:",
      '  expected_latncy: "1ms"',
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 6,
      column: 3,
      path: "performance.expected_latncy",
      problem: /unknown key 'expected_latncy'/,
      fix: /did you mean 'expected_latency'\? use expected_latency, expected_throughput/,
    },
  );
});

Deno.test("TOPOLOGY_INVALID: hosts: naming a host that runs no group lists the hosts in use", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  hosts:",
      '    complance: "10.0.0.7"',
      "  process_groups:",
      "    a: { actors: [x] }",
      "    compliance: { actors: [y], deployment: separate_machine }",
    ),
    {
      code: "TOPOLOGY_INVALID",
      line: 4,
      column: 5,
      path: "topology.hosts.complance",
      problem: /host 'complance' runs no process group/,
      fix: /did you mean 'compliance'\? hosts in use: local, compliance/,
    },
  );
});

// ---- TOPOLOGY_BAD_UNIT ----------------------------------------------------

Deno.test("TOPOLOGY_BAD_UNIT: a latency budget with an unknown unit lists the units", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: { transport: channel }",
      "performance:",
      '  expected_latency: "200 nanos"',
    ),
    {
      code: "TOPOLOGY_BAD_UNIT",
      line: 6,
      column: 21,
      path: "performance.expected_latency",
      problem: /'200 nanos' is not a latency/,
      fix: /ns, us \(or µs\), ms or s, e\.g\. "200ns"/,
    },
  );
});

Deno.test("TOPOLOGY_BAD_UNIT: a throughput without msg/s shows the form", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: {}",
      "performance:",
      "  expected_throughput: 20M",
    ),
    {
      code: "TOPOLOGY_BAD_UNIT",
      line: 6,
      column: 24,
      path: "performance.expected_throughput",
      problem: /'20M' is not a throughput/,
      fix: /"20M msg\/s"/,
    },
  );
});

Deno.test("TOPOLOGY_BAD_UNIT: a route's own latency is checked where it is written", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors: { a: {}, b: {} }",
      "  routes:",
      "    - { from: a, to: b, latency: 5 }",
    ),
    {
      code: "TOPOLOGY_BAD_UNIT",
      line: 5,
      column: 34,
      path: "topology.routes[0].latency",
      problem: /5 is not a latency/,
      fix: /ns, us/,
    },
  );
});

// ---- TOPOLOGY_UNKNOWN_ACTOR -----------------------------------------------

Deno.test("TOPOLOGY_UNKNOWN_ACTOR: a route naming an actor placed nowhere suggests the placed one", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    market_relay: {}",
      "    arbitrage_strategy: {}",
      "  routes:",
      "    - { from: market_relay, to: arbitrage_stratgy }",
    ),
    {
      code: "TOPOLOGY_UNKNOWN_ACTOR",
      line: 7,
      column: 33,
      path: "topology.routes[0].to",
      problem: /'arbitrage_stratgy' is not placed in this topology/,
      fix:
        /did you mean 'arbitrage_strategy'\? placed actors are: market_relay, arbitrage_strategy/,
    },
  );
});

Deno.test("TOPOLOGY_UNKNOWN_ACTOR: a budget naming neither a group nor an actor lists the names", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [relay] }",
      "    execution: { actors: [executor] }",
      "performance:",
      '  exection_latency: "2µs"',
    ),
    {
      code: "TOPOLOGY_UNKNOWN_ACTOR",
      line: 7,
      column: 3,
      path: "performance.exection_latency",
      problem: /'exection' in 'exection_latency' is neither a process group nor an actor/,
      fix: /did you mean 'execution'\? name one of: hot_path, execution, relay, executor/,
    },
  );
});

Deno.test("TOPOLOGY_UNKNOWN_ACTOR: a placed actor the application does not have is refused", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    market_relay: {}",
      "    order_executor: {}",
    ),
    {
      code: "TOPOLOGY_UNKNOWN_ACTOR",
      line: 5,
      column: 5,
      path: "topology.actors.order_executor",
      problem: /'order_executor' is not an actor of this application/,
      fix: /its actors are: market_relay$/,
    },
    { knownActors: ["market_relay"] },
  );
});

Deno.test("a misspelt actor is one problem, the cause: unknown, naming the actor it leaves unplaced", () => {
  const e = errorOf(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    market_relay: {}",
      "    order_exector: {}",
    ),
    { knownActors: ["market_relay", "order_executor"] },
  );
  assert.deepEqual(e.problems.map((p) => [p.code, p.line, p.column]), [
    ["TOPOLOGY_UNKNOWN_ACTOR", 5, 5],
  ]);
  assert.match(
    e.problems[0]?.problem ?? "",
    /'order_exector' is not an actor of this application, and actor 'order_executor' is placed nowhere/,
  );
  assert.match(e.problems[0]?.fix ?? "", /did you mean 'order_executor'\?/);
});

// ---- TOPOLOGY_DUPLICATE_ACTOR ---------------------------------------------

Deno.test("TOPOLOGY_DUPLICATE_ACTOR: an actor in two process groups names both places", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path:",
      "      actors: [market_relay, order_executor]",
      "    execution:",
      "      actors: [order_executor]",
    ),
    {
      code: "TOPOLOGY_DUPLICATE_ACTOR",
      line: 7,
      column: 16,
      path: "topology.process_groups.execution.actors[0]",
      problem: /actor 'order_executor' is already placed in group 'hot_path' \(line 5\)/,
      fix: /place each actor in exactly one process group/,
    },
  );
});

Deno.test("TOPOLOGY_DUPLICATE_ACTOR: an actor listed twice under monolith actors is refused", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: {}",
      "    b: {}",
      "    a: { transport: channel }",
    ),
    {
      code: "TOPOLOGY_DUPLICATE_ACTOR",
      line: 6,
      column: 5,
      path: "topology.actors.a",
      problem: /actor 'a' is placed twice \(first on line 4\)/,
      fix: /place each actor once/,
    },
  );
});

// ---- TOPOLOGY_UNPLACED_ACTOR ----------------------------------------------

Deno.test("TOPOLOGY_UNPLACED_ACTOR: an actor of the application placed nowhere says where to add it", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [market_relay] }",
    ),
    {
      code: "TOPOLOGY_UNPLACED_ACTOR",
      line: 3,
      column: 3,
      path: "topology.process_groups",
      problem: /actor 'audit_trail' is placed nowhere/,
      fix: /add audit_trail to the actors list of a process group \(e\.g\. hot_path\)/,
    },
    { knownActors: ["market_relay", "audit_trail"] },
  );
  assertProblem(
    yaml("topology:", "  mode: monolith", "  actors:", "    market_relay: {}"),
    {
      code: "TOPOLOGY_UNPLACED_ACTOR",
      line: 3,
      column: 3,
      path: "topology.actors",
      problem: /actor 'audit_trail' is placed nowhere/,
      fix: /add 'audit_trail: \{ transport: channel \}' under topology\.actors/,
    },
    { knownActors: ["market_relay", "audit_trail"] },
  );
});

// ---- TOPOLOGY_ADDRESS_CONFLICT --------------------------------------------

Deno.test("TOPOLOGY_ADDRESS_CONFLICT: two actors on one host:port name the first one", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: distributed",
      "  actors:",
      '    market_relay: { endpoint: "box.internal:8001" }',
      '    arbitrage_strategy: { endpoint: "box.internal:8001" }',
    ),
    {
      code: "TOPOLOGY_ADDRESS_CONFLICT",
      line: 5,
      column: 37,
      path: "topology.actors.arbitrage_strategy.endpoint",
      problem:
        /port 8001 on host 'box\.internal' is already used by group 'market_relay' \(line 4\)/,
      fix: /give one of the two groups another address/,
    },
  );
});

Deno.test("TOPOLOGY_ADDRESS_CONFLICT: two groups on one socket path are refused", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  socket_dir: /run/mycelium",
      "  process_groups:",
      "    a: { actors: [x], socket: shared.sock }",
      "    b: { actors: [y], socket: /run/mycelium/shared.sock }",
    ),
    {
      code: "TOPOLOGY_ADDRESS_CONFLICT",
      line: 6,
      column: 31,
      path: "topology.process_groups.b.socket",
      problem:
        /socket path '\/run\/mycelium\/shared\.sock' is already used by group 'a' \(line 5\)/,
      fix: /another address/,
    },
  );
});

Deno.test("TOPOLOGY_ADDRESS_CONFLICT: a socket taking another group's default path blames the written one", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    execution: { actors: [x] }",
      "    audit: { actors: [y], socket: execution.sock }",
    ),
    {
      code: "TOPOLOGY_ADDRESS_CONFLICT",
      line: 5,
      column: 35,
      path: "topology.process_groups.audit.socket",
      problem: /'execution\.sock' is also the default address of group 'execution'/,
      fix: /give group 'execution' its own/,
    },
  );
});

// ---- TOPOLOGY_TRANSPORT_CONFLICT ------------------------------------------

Deno.test("TOPOLOGY_TRANSPORT_CONFLICT: a monolith actor on unix is refused with the way to split it", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: monolith",
      "  actors:",
      "    a: { transport: channel }",
      "    b: { transport: unix }",
    ),
    {
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      line: 5,
      column: 21,
      path: "topology.actors.b.transport",
      problem: /'unix' cannot be used in mode monolith/,
      fix: /use channel, or set mode: hybrid/,
    },
  );
});

Deno.test("TOPOLOGY_TRANSPORT_CONFLICT: a route pinned to unix between two hosts asks for tcp", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [strategy] }",
      "    compliance: { actors: [audit], deployment: separate_machine }",
      "  routes:",
      "    - { from: strategy, to: audit, transport: unix }",
    ),
    {
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      line: 7,
      column: 47,
      path: "topology.routes[0].transport",
      problem: /unix cannot cross from host 'local' to host 'compliance'/,
      fix: /use tcp, or put both process groups on one host/,
    },
  );
});

Deno.test("TOPOLOGY_TRANSPORT_CONFLICT: a route inside one group cannot be pinned to a socket", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [relay, strategy] }",
      "  routes:",
      "    - { from: relay, to: strategy, transport: tcp }",
    ),
    {
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      line: 6,
      column: 47,
      path: "topology.routes[0].transport",
      problem: /both actors are in process group 'hot_path'/,
      fix: /drop the pin|move one of the actors/,
    },
  );
});

Deno.test("TOPOLOGY_TRANSPORT_CONFLICT: two routes between the same groups cannot pin two transports", () => {
  assertProblem(
    yaml(
      "topology:",
      "  mode: hybrid",
      "  process_groups:",
      "    hot_path: { actors: [strategy] }",
      "    execution: { actors: [executor] }",
      "  routes:",
      "    - { from: strategy, to: executor, transport: tcp }",
      "    - { from: executor, to: strategy, transport: unix }",
    ),
    {
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      line: 8,
      column: 50,
      path: "topology.routes[1].transport",
      problem:
        /groups 'execution' and 'hot_path' share one link, and route strategy → executor \(line 7\) pins it to tcp/,
      fix: /pin both routes to the same transport, or drop one of the pins/,
    },
  );
});

Deno.test("TOPOLOGY_TRANSPORT_CONFLICT: channel cannot reach a distributed actor", () => {
  assertProblem(
    yaml("topology:", "  mode: distributed", "  actors:", "    a: { transport: channel }"),
    {
      code: "TOPOLOGY_TRANSPORT_CONFLICT",
      line: 4,
      column: 21,
      path: "topology.actors.a.transport",
      problem: /'channel' cannot reach an actor of mode distributed/,
      fix: /use tcp or unix/,
    },
  );
});

// ---- reporting ------------------------------------------------------------

Deno.test("every problem of the failing stage is listed, in file order", () => {
  const e = errorOf(yaml(
    "topology:",
    "  mode: monolith",
    "  actors:",
    "    a: {}",
    "performance:",
    '  b_latency: "1ms"',
    '  expected_latency: "1 hour"',
    "  expected_throughput: lots",
  ));
  assert.deepEqual(
    e.problems.map((p) => [p.code, p.line]),
    [["TOPOLOGY_UNKNOWN_ACTOR", 6], ["TOPOLOGY_BAD_UNIT", 7], ["TOPOLOGY_BAD_UNIT", 8]],
  );
  assert.equal(e.code, "TOPOLOGY_UNKNOWN_ACTOR");
  assert.equal(e.line, 6);
});

Deno.test("a file name defaults to <topology> when parsing text", () => {
  try {
    parseTopology("topology: {}\n");
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof TopologyError);
    assert.equal(e.file, "<topology>");
    assert.match(
      e.message,
      /^<topology>:1:11: topology\.mode: 'mode' is missing; add mode: one of/,
    );
  }
});
