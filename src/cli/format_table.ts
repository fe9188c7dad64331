/**
 * Plain-text tables for the CLI.
 *
 * @module
 */

/**
 * Lays out rows in columns padded to the widest cell, two spaces apart, the
 * last column unpadded.
 *
 * @example
 * ```ts
 * import { formatTable } from "./format_table.ts";
 * const text = formatTable([["from", "to"], ["a", "bb"]]);
 * if (text !== "from  to\na     bb") throw new Error(text);
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  }
  return rows
    .map((row) =>
      row.map((cell, i) =>
        i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length)
      )
        .join("  ").trimEnd()
    )
    .join("\n");
}
