/**
 * The README's tour: a new app of four actors and an entry file of ten lines
 * runs as a monolith, split over a Unix socket and TCP (real child processes),
 * and as a bundle run from an empty directory, with the same results.
 */
import assert from "node:assert/strict";
import { deno, freePort } from "../../_deno.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const ENTRY = `${ROOT}examples/quickstart/main.ts`;

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
  /** `wordcount run CONFIG --lines 300 ...extra` of `program`, from `cwd`; its words line. */
  const count = async (program: string, config: string, extra: string[] = [], cwd = ROOT) => {
    const r = await deno(
      ["run", ...perms(dir), program, "run", config, "--lines", "300", ...extra],
      cwd,
    );
    assert.equal(r.code, 0, r.stderr);
    return { line: words(r.stdout), out: r.stdout };
  };
  try {
    const monolith = "examples/quickstart/config/monolith.yaml";
    const expected = (await count(ENTRY, monolith)).line;
    assert.match(expected, /^words \d+ \(8 distinct; most frequent: \w+\)$/);
    assert.equal((await count(ENTRY, monolith, ["--faithful"])).line, expected);

    await Deno.writeTextFile(`${dir}/split.yaml`, splitYaml(freePort()));
    const split = await count(ENTRY, `${dir}/split.yaml`, ["--socket-dir", `${dir}/sockets`]);
    assert.equal(split.line, expected);
    // Every group ran in its own process, linked to the others.
    assert.match(split.out, /hybrid, 3 process groups \(front, counting, reporting\)/);
    assert.match(split.out, /^counter +counting +mailbox +\d+/m);
    assert.match(split.out, /^reporter +reporting +mailbox +1 /m);

    // What a compiled binary embeds, run from a directory that holds only its topology.
    const bundle = `${dir}/wordcount.js`;
    const built = await deno(["bundle", "--platform", "deno", "-o", bundle, ENTRY], ROOT);
    assert.equal(built.code, 0, built.stderr);
    const empty = `${dir}/empty`;
    await Deno.mkdir(empty);
    await Deno.copyFile(`${ROOT}${monolith}`, `${empty}/monolith.yaml`);
    assert.equal((await count(bundle, "monolith.yaml", [], empty)).line, expected);
    const bundledSplit = await count(
      bundle,
      `${dir}/split.yaml`,
      ["--socket-dir", `${dir}/s2`],
      empty,
    );
    assert.equal(bundledSplit.line, expected);
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
