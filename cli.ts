/**
 * Entry of the repository's `mycelium` binary (`deno task compile` target):
 * the generic command line with the reference trading pipeline as its app.
 * A user's entry file looks the same with their own app.
 *
 * @module
 */
import { runCli } from "./mod.ts";
import { tradingApp } from "./examples/trading/app.ts";

if (import.meta.main) {
  Deno.exit(await runCli(tradingApp, Deno.args, { defaultConfig: "config/dev.yaml" }));
}
