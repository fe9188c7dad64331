/**
 * The README's tour is a program: its TypeScript blocks, in order, must
 * type-check and run, and print what the text says they do.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** The ```ts blocks (not ```ts ignore) of the section whose heading starts with `heading`. */
function tourSource(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `README has no section '${heading}'`);
  const next = readme.indexOf("\n## ", start + 4);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.ok(blocks.length >= 3, "the tour should have several code blocks");
  return blocks.join("\n").replaceAll('"./mod.ts"', JSON.stringify(new URL("mod.ts", ROOT).href));
}

Deno.test("the README tour type-checks, runs, and both buses see the same orders", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const dir = await Deno.makeTempDir({ prefix: "mycelium_readme_" });
  try {
    const file = `${dir}/tour.ts`;
    await Deno.writeTextFile(file, tourSource(readme, "A tour"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--check", `--config=${new URL("deno.json", ROOT).pathname}`, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const bus = stdout.match(/^bus orders: (\d+)$/m);
    const mono = stdout.match(/^monolith orders: (\d+)$/m);
    assert.ok(bus && mono, stdout);
    assert.ok(Number(bus[1]) > 0);
    assert.equal(bus[1], mono[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The first ```text block of the section whose heading starts with `heading`. */
function printedBlock(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `README has no section '${heading}'`);
  const block = /```text\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(block !== null, `section '${heading}' shows no output`);
  return block[1]!;
}

Deno.test("the README's reference pipeline output is what `deno task start` prints", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const shown = printedBlock(readme, "The reference pipeline").split("\n");
  // The task as deno.json declares it, its permissions included, run in an empty directory
  // (where its audit file goes) with the repository's files named absolutely.
  const task: string = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks.start;
  const args = task.split(/\s+/).slice(1).map((a) =>
    a === "cli.ts" || a === "config/dev.yaml" ? new URL(a, ROOT).pathname : a
  );
  const dir = await Deno.makeTempDir({ prefix: "mycelium_readme_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const header = shown[0]!.replace(
      " config/dev.yaml:",
      ` ${new URL("config/dev.yaml", ROOT).pathname}:`,
    );
    assert.equal(stdout.split("\n")[0], header);
    const figures = shown.slice(1).filter((l) => l.startsWith("  "));
    assert.ok(figures.length >= 6, "the README shows the summary's figures");
    const printed = stdout.split("\n");
    for (const line of figures) {
      // The README cuts the checksum short (…): the printed line starts with what it shows.
      const cut = line.endsWith("…");
      const want = cut ? line.slice(0, -1) : line;
      assert.ok(
        printed.some((p) => cut ? p.startsWith(want) : p === want),
        `not printed: ${line}\n${stdout}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
