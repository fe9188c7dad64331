/**
 * Entry of the key-value service: the generic command line with `kvApp`.
 * `deno compile` of this file is the service's single binary.
 *
 * @module
 */
import { runCli } from "../../mod.ts";
import { kvApp } from "./app.ts";

if (import.meta.main) Deno.exit(await runCli(kvApp, Deno.args));
