/**
 * The README's tour: a new app of four actors and an entry file of ten lines
 * runs as a monolith, split over a Unix socket and TCP (real child processes),
 * and as a bundle run from an empty directory, with the same results.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../../", import.meta.url).pathname;
const ENTRY = `${ROOT}examples/quickstart/main.ts`;

/** A TCP port nobody listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function run(
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: o.code, out: text(o.stdout), err: text(o.stderr) };
}

function perms(dir: string): string[] {
  return [
    "--allow-read",
    `--allow-write=${dir}`,
    // Unix sockets need net access to their paths too; TCP only reaches 127.0.0.1 here.
    "--allow-net",
    `--allow-run=${Deno.execPath()}`,
    "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
  ];
}

/** The line with the app's result, e.g. `words 3997 (8 distinct; most frequent: rain)`. */
function words(out: string): string {
  const line = out.split("\n").find((l) => l.startsWith("  words "));
  assert.ok(line !== undefined, `no words line in:\n${out}`);
  return line.trim().replace(/ +/g, " ");
}

function splitYaml(port: number): string {
  return `topology:
  mode: hybrid
  process_groups:
    front: { actors: [reader, splitter] }
    counting: { actors: [counter], transport: unix_socket }
    reporting: { actors: [reporter], transport: tcp, endpoint: "127.0.0.1:${port}" }
`;
}

Deno.test("the quickstart app gives the same counts as a monolith, split over unix and tcp, and bundled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mycelium_quickstart_" });
  try {
    const mono = await run(
      [
        "run",
        ...perms(dir),
        ENTRY,
        "run",
        "examples/quickstart/config/monolith.yaml",
        "--lines",
        "300",
      ],
      ROOT,
    );
    assert.equal(mono.code, 0, mono.err);
    const expected = words(mono.out);
    assert.match(expected, /^words \d+ \(8 distinct; most frequent: \w+\)$/);

    const faithful = await run(
      [
        "run",
        ...perms(dir),
        ENTRY,
        "run",
        "examples/quickstart/config/monolith.yaml",
        "--lines",
        "300",
        "--faithful",
      ],
      ROOT,
    );
    assert.equal(faithful.code, 0, faithful.err);
    assert.equal(words(faithful.out), expected);

    await Deno.writeTextFile(`${dir}/split.yaml`, splitYaml(freePort()));
    const split = await run(
      [
        "run",
        ...perms(dir),
        ENTRY,
        "run",
        `${dir}/split.yaml`,
        "--socket-dir",
        `${dir}/sockets`,
        "--lines",
        "300",
      ],
      ROOT,
    );
    assert.equal(split.code, 0, split.err);
    assert.equal(words(split.out), expected);
    // Every group ran in its own process, linked to the others.
    assert.match(split.out, /hybrid, 3 process groups \(front, counting, reporting\)/);
    assert.match(split.out, /^counter +counting +mailbox +\d+/m);
    assert.match(split.out, /^reporter +reporting +mailbox +1 /m);

    const bundle = `${dir}/wordcount.js`;
    const built = await run(["bundle", "--platform", "deno", "-o", bundle, ENTRY], ROOT);
    assert.equal(built.code, 0, built.err);
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    await Deno.writeTextFile(
      `${empty}/monolith.yaml`,
      await Deno.readTextFile(`${ROOT}examples/quickstart/config/monolith.yaml`),
    );
    const bundled = await run(
      ["run", ...perms(dir), bundle, "run", "monolith.yaml", "--lines", "300"],
      empty,
    );
    assert.equal(bundled.code, 0, bundled.err);
    assert.equal(words(bundled.out), expected);
    const bundledSplit = await run(
      [
        "run",
        ...perms(dir),
        bundle,
        "run",
        `${dir}/split.yaml`,
        "--socket-dir",
        `${dir}/s2`,
        "--lines",
        "300",
      ],
      empty,
    );
    assert.equal(bundledSplit.code, 0, bundledSplit.err);
    assert.equal(words(bundledSplit.out), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's tour shows the quickstart's app and entry files as they are", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  for (const file of ["examples/quickstart/app.ts", "examples/quickstart/main.ts"]) {
    const text = await Deno.readTextFile(`${ROOT}${file}`);
    // Everything from the imports on (the module doc is the file's own).
    const code = text.slice(text.indexOf("import {"));
    assert.ok(readme.includes(code), `README.md does not show ${file} as it is`);
  }
  const entry = await Deno.readTextFile(ENTRY);
  assert.ok(entry.split("\n").length <= 25, "the entry file is at most 25 lines");
});
