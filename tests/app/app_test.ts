/** defineApp: a declaration that cannot run is refused with APP_INVALID and the fix. */
import assert from "node:assert/strict";
import { AppError, defineApp, defineMessage, field, on, param } from "../../mod.ts";
import { runCli, VERSION } from "../../src/cli/main.ts";

const Ping = defineMessage({ id: 1, name: "Ping", fields: { n: field.u32() } });
const Pong = defineMessage({ id: 2, name: "Pong", fields: { n: field.u32() } });
const handler = () => ({ handlers: [on(Ping, () => {})] });

function refused(make: () => unknown, pattern: RegExp): void {
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, "APP_INVALID");
    assert.match(e.message, pattern);
    assert.ok(e.fix !== undefined && e.fix.length > 0, "the error says how to fix it");
    return true;
  });
}

Deno.test("defineApp keeps actors in declaration order and fills in defaults", () => {
  const app = defineApp({
    name: "pinger",
    messages: [Ping, Pong],
    params: { count: param.integer({ description: "Pings.", default: 3 }) },
    actors: { b: handler, a: { create: handler, stateful: false } },
  });
  assert.deepEqual(app.actorNames, ["b", "a"]);
  assert.equal(app.lifecycle, "service");
  assert.equal(app.actors.a.stateful, false);
  assert.equal(typeof app.actors.b.create, "function");
  assert.deepEqual(app.routes, []);
});

Deno.test("defineApp refuses a route to an actor it does not declare", () => {
  refused(
    () =>
      defineApp({
        name: "x",
        messages: [Ping],
        actors: { a: handler },
        routes: [{ type: Ping, sync: ["a", "ghost" as "a"] }],
      }),
    /route Ping: no actor 'ghost'/,
  );
});

Deno.test("defineApp refuses an actor that is a sync target of one route and async of another", () => {
  const both = () => ({ handlers: [on(Ping, () => {}), on(Pong, () => {})] });
  refused(
    () =>
      defineApp({
        name: "x",
        messages: [Ping, Pong],
        actors: { a: both },
        routes: [{ type: Ping, sync: ["a"] }, { type: Pong, async: ["a"] }],
      }),
    /sync target of one route and an async target/,
  );
});

Deno.test("defineApp refuses two message types with one id, and a routed type it does not list", () => {
  const Other = defineMessage({ id: 1, name: "Other", fields: {} });
  refused(
    () => defineApp({ name: "x", messages: [Ping, Other], actors: { a: handler } }),
    /share id 1/,
  );
  refused(
    () =>
      defineApp({
        name: "x",
        messages: [Pong],
        actors: { a: handler },
        routes: [{ type: Ping, sync: ["a"] }],
      }),
    /the type is not in messages/,
  );
});

Deno.test("defineApp refuses bad names: app, actor, a parameter the run command already has", () => {
  refused(() => defineApp({ name: "my app", messages: [], actors: { a: handler } }), /app name/);
  refused(
    () => defineApp({ name: "x", messages: [], actors: { "mycelium.run": handler } }),
    /actor name/,
  );
  refused(() => defineApp({ name: "x", messages: [], actors: {} }), /declares no actor/);
  refused(
    () =>
      defineApp({
        name: "x",
        messages: [],
        params: { group: param.string({ description: "clashes with --group" }) },
        actors: { a: handler },
      }),
    /parameter name 'group'/,
  );
});

Deno.test("--version prints the app's name and version beside Mycelium's; a bad version is refused", async () => {
  const printed = async (version?: string) => {
    const app = defineApp({
      name: "sensors",
      ...(version === undefined ? {} : { version }),
      messages: [Ping],
      actors: { a: handler },
    });
    const out: string[] = [];
    const code = await runCli(app, ["--version"], {
      io: { out: (t) => void out.push(t), err: (t) => void out.push(t) },
    });
    assert.equal(code, 0, out.join("\n"));
    return out.join("").trim();
  };
  assert.equal(await printed("1.4.2"), `sensors 1.4.2 (mycelium ${VERSION})`);
  assert.equal(await printed(), `sensors (mycelium ${VERSION})`);
  for (const bad of ["", "1.0 beta", "1.0\n"]) {
    refused(
      () => defineApp({ name: "x", version: bad, messages: [Ping], actors: { a: handler } }),
      /version/,
    );
  }
});
