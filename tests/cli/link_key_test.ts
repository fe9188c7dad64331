/**
 * The CLI's link key: a split run takes it from MYCELIUM_LINK_KEY (children
 * inherit it), and groups holding different keys do not link.
 */
import assert from "node:assert/strict";
import { deno, freePort, splitRunPermissions } from "../_deno.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ENTRY = `${ROOT}examples/quickstart/main.ts`;

const perms = splitRunPermissions;

/** Two groups linked over TCP on loopback. */
function twoGroups(port: number): string {
  return `topology:
  mode: hybrid
  process_groups:
    front: { actors: [reader, splitter] }
    back: { actors: [counter, reporter], transport: tcp, endpoint: "127.0.0.1:${port}" }
`;
}

Deno.test("a split run links with the key from MYCELIUM_LINK_KEY", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_key_" });
  try {
    const config = `${dir}/split.yaml`;
    await Deno.writeTextFile(config, twoGroups(freePort()));
    const r = await deno(
      ["run", ...perms(dir), ENTRY, "run", config, "--lines", "50", "--socket-dir", `${dir}/s`],
      ROOT,
      { MYCELIUM_LINK_KEY: "a shared secret" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}words +\d+ /m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups started with different MYCELIUM_LINK_KEY values refuse to link", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_key_" });
  const config = `${dir}/split.yaml`;
  await Deno.writeTextFile(config, twoGroups(freePort()));
  const start = (group: string, key: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...perms(dir), ENTRY, "run", config, "--group", group, "--lines", "50"],
      cwd: ROOT,
      env: { NO_COLOR: "1", MYCELIUM_LINK_KEY: key },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const children = [start("back", "key one"), start("front", "key two")];
  try {
    // The side whose dial is refused ends on its own (a wrong key is never retried);
    // the other is left waiting for a peer that will not come.
    const outputs = children.map((child) => child.output());
    const first = await Promise.race(outputs.map(async (o, i) => ({ i, out: await o })));
    const stderr = new TextDecoder().decode(first.out.stderr);
    assert.notEqual(first.out.code, 0, stderr);
    assert.match(stderr, /failed the shared-key challenge \[RUNTIME_DIAL_FAILED\]/);
    children[1 - first.i]!.kill("SIGKILL");
    await outputs[1 - first.i];
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
    await Promise.allSettled(children.map((c) => c.status));
    await Deno.remove(dir, { recursive: true });
  }
});
