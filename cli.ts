/**
 * Entry of the `mycelium` binary (`deno task compile` target).
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
