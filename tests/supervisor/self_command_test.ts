/**
 * selfCommand: the standalone branch with injected facts, the flag
 * reconstruction with an injected permission table, and the real thing: a
 * fixture started with `deno run` (from source and as a `deno bundle`
 * output in an empty directory) starts itself again and both report what
 * `Deno.permissions` says. The compiled-binary run needs a denort (see
 * tests/build/binary_test.ts) and is ignored without DENORT_BIN.
 */
import assert from "node:assert/strict";
import {
  permissionFlags,
  selfCommand,
  type SelfRuntime,
  SupervisorError,
} from "../../src/supervisor/mod.ts";

const FIXTURE = new URL("./fixtures/self_spawn.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const DENORT_BIN = Deno.env.get("DENORT_BIN");

function runtime(
  table: Record<string, Deno.PermissionState>,
  overrides: Partial<SelfRuntime> = {},
): SelfRuntime {
  return {
    standalone: false,
    execPath: "/opt/deno",
    mainModule: "file:///app/cli.ts",
    queryPermission(d) {
      const value = "path" in d
        ? d.path
        : "host" in d
        ? d.host
        : "variable" in d
        ? d.variable
        : "command" in d
        ? d.command
        : "kind" in d
        ? d.kind
        : undefined;
      return table[value === undefined ? d.name : `${d.name}:${value}`] ?? "prompt";
    },
    ...overrides,
  };
}

Deno.test("selfCommand in a compiled binary is the binary itself with the arguments", () => {
  const self = selfCommand(["run", "prod.yaml", "--group", "execution"], {
    runtime: runtime({ read: "granted" }, { standalone: true, execPath: "/usr/bin/mycelium" }),
    runtimeFlags: ["--unstable-kv"],
  });
  assert.deepEqual(self, {
    command: "/usr/bin/mycelium",
    args: ["run", "prod.yaml", "--group", "execution"],
  });
});

Deno.test("selfCommand under deno run passes permissions, flags, the entry module, then the arguments", () => {
  const self = selfCommand(["run", "prod.yaml"], {
    runtime: runtime({ read: "granted", net: "denied", "env:HOME": "granted" }),
    probe: { env: ["HOME", "PATH"] },
    runtimeFlags: ["--config", "/app/deno.json"],
  });
  assert.deepEqual(self, {
    command: "/opt/deno",
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--deny-net",
      "--allow-env=HOME",
      "--config",
      "/app/deno.json",
      "file:///app/cli.ts",
      "run",
      "prod.yaml",
    ],
  });
});

Deno.test("permissionFlags: whole grants, partial grants found by probing, and explicit denials", () => {
  const flags = permissionFlags(
    runtime({
      read: "granted",
      "read:/etc": "granted",
      write: "prompt",
      "write:/tmp/out": "granted",
      "write:/var": "prompt",
      net: "granted",
      "net:evil.example": "denied",
      "net:good.example": "granted",
      env: "prompt",
      "env:A": "granted",
      "env:B": "granted",
      "env:C": "denied",
      ffi: "denied",
    }),
    {
      read: ["/etc"],
      write: ["/tmp/out", "/var"],
      net: ["evil.example", "good.example"],
      env: ["A", "B", "C"],
    },
  );
  assert.deepEqual(flags, [
    "--allow-read",
    "--allow-write=/tmp/out",
    "--allow-net",
    "--deny-net=evil.example",
    "--allow-env=A,B",
    "--deny-env=C",
    "--deny-ffi",
  ]);
  assert.deepEqual(
    permissionFlags(runtime({})),
    [],
    "nothing granted: no flag (the child never prompts)",
  );
});

Deno.test("selfCommand refuses entries and values it cannot pass on, with SUPERVISOR_SELF_COMMAND", () => {
  const refused = (fn: () => unknown, message: RegExp) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof SupervisorError);
      assert.equal(e.code, "SUPERVISOR_SELF_COMMAND");
      assert.match(e.message, message);
      return true;
    });
  refused(
    () => selfCommand([], { runtime: runtime({}, { mainModule: "file:///tmp/$deno$eval.mts" }) }),
    /eval, the REPL or stdin/,
  );
  refused(
    () => selfCommand([], { runtime: runtime({}), probe: { read: ["/a,b"] } }),
    /contains a comma/,
  );
  // The real Deno.permissions rejects an unknown sys kind; the error names it.
  refused(() => selfCommand([], { probe: { sys: ["bogus"] } }), /sys permission for 'bogus'/);
});

interface Report {
  whole: Record<string, Deno.PermissionState>;
  values: Record<string, Deno.PermissionState>;
  standalone: boolean;
}

async function selfSpawn(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ parent: Report; child: Report; self: { command: string; args: string[] } }> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function permissionArgs(dir: string) {
  const probe = {
    env: ["HOME", "MYCELIUM_PROBE_A", "MYCELIUM_PROBE_B"],
    write: [dir, "/usr"],
    net: ["example.com", "localhost"],
  };
  const flags = [
    "--allow-read",
    "--allow-run",
    "--allow-env=HOME,MYCELIUM_PROBE_A",
    `--allow-write=${dir}`,
    "--allow-net",
    "--deny-net=example.com",
    "--deny-ffi",
  ];
  return { flags, probe: JSON.stringify(probe) };
}

function assertSamePermissions(r: Awaited<ReturnType<typeof selfSpawn>>, dir: string) {
  // What the parent was started with, as Deno reports it…
  assert.deepEqual(r.parent.whole, {
    read: "granted",
    write: "prompt",
    net: "granted",
    env: "prompt",
    sys: "prompt",
    run: "granted",
    ffi: "denied",
    import: "prompt",
  });
  assert.deepEqual(r.parent.values, {
    "env:HOME": "granted",
    "env:MYCELIUM_PROBE_A": "granted",
    "env:MYCELIUM_PROBE_B": "prompt",
    [`write:${dir}`]: "granted",
    "write:/usr": "prompt",
    "net:example.com": "denied",
    "net:localhost": "granted",
  });
  // …is exactly what the child it started again reports.
  assert.deepEqual(r.child, r.parent);
}

Deno.test("selfCommand under deno run starts this program again with the same permissions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_self_" });
  try {
    const { flags, probe } = permissionArgs(dir);
    const r = await selfSpawn(Deno.execPath(), ["run", ...flags, FIXTURE, "parent", probe], dir);
    assertSamePermissions(r, dir);
    assert.equal(r.parent.standalone, false);
    assert.equal(r.self.command, Deno.execPath());
    assert.equal(r.self.args[0], "run");
    assert.ok(r.self.args.includes(new URL(`file://${FIXTURE}`).href));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("selfCommand from a deno bundle run in an empty directory starts the bundle again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_self_bundle_" });
  try {
    const bundle = `${dir}/self_spawn.js`;
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", bundle, FIXTURE],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    const { flags, probe } = permissionArgs(empty);
    const r = await selfSpawn(Deno.execPath(), ["run", ...flags, bundle, "parent", probe], empty);
    assertSamePermissions(r, empty);
    assert.ok(r.self.args.includes(`file://${bundle}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "selfCommand in a compiled binary starts the binary again" +
    (DENORT_BIN
      ? ""
      : " (ignored: set DENORT_BIN to a denort binary; deno compile cannot download one here)"),
  ignore: !DENORT_BIN,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mycelium_self_compile_" });
    try {
      const binary = `${dir}/self_spawn`;
      const { flags, probe } = permissionArgs(dir);
      const built = await new Deno.Command(Deno.execPath(), {
        args: ["compile", ...flags, "--output", binary, FIXTURE],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
      const r = await selfSpawn(binary, ["parent", probe], dir);
      assertSamePermissions(r, dir);
      assert.equal(r.parent.standalone, true);
      assert.deepEqual(r.self, { command: binary, args: ["child", probe] });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
