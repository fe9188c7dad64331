/**
 * The word counter's command line: `run`, `validate`, `topology`, `bench`.
 * `deno compile` of this file is its single binary.
 *
 * @module
 */
import { runCli } from "../../mod.ts";
import { wordCount } from "./app.ts";

if (import.meta.main) Deno.exit(await runCli(wordCount, Deno.args));
