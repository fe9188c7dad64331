/** Helpers the topology tests share: YAML from lines, and the error a text is refused with. */
import assert from "node:assert/strict";
import { parseTopology, type ParseTopologyOptions, TopologyError } from "../../src/topology/mod.ts";

/** The lines as one YAML text. */
export function yaml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** The TopologyError `parseTopology` refuses `text` with (as file `config/t.yaml`); fails if it accepts it. */
export function errorOf(text: string, options: ParseTopologyOptions = {}): TopologyError {
  try {
    parseTopology(text, { file: "config/t.yaml", ...options });
  } catch (e) {
    if (e instanceof TopologyError) return e;
    throw e;
  }
  assert.fail("the topology was accepted");
}
