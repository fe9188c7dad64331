/**
 * Runs the `mycelium` CLI (`cli.ts`) as a real child process, for the CLI's
 * end-to-end tests.
 */

/** The repository's root directory. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** What a run printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `deno run <permissions> cli.ts <args>` from the repository root. The child
 * may write only in `dir`; `permissions` adds more (e.g. `--allow-net`).
 */
export async function mycelium(
  args: readonly string[],
  dir: string,
  permissions: readonly string[] = [],
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-env=MYCELIUM_CONFIG,LOG_TOKENS,LOG_STREAM",
      ...permissions,
      "cli.ts",
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Hex SHA-256 of a file. */
export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
