/**
 * Reads a child's output stream to its end, one text line at a time.
 *
 * @module
 */

/**
 * Calls `onLine` for each line of `stream` (without its `\n`, and without a
 * `\r` before it), then for the last unterminated piece, if any. A line
 * longer than `maxLineLength` characters is cut into pieces of that length,
 * so a child that never writes a newline cannot grow the buffer without
 * bound. Resolves when the stream ends; the stream is always read to its
 * end, so the child never blocks on a full pipe.
 */
export async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  maxLineLength: number,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n", start)) {
      while (nl - start > maxLineLength) {
        emit(pending.slice(start, start + maxLineLength));
        start += maxLineLength;
      }
      emit(pending.slice(start, nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
    while (pending.length > maxLineLength) {
      emit(pending.slice(0, maxLineLength));
      pending = pending.slice(maxLineLength);
    }
  }
  pending += decoder.decode();
  if (pending !== "") emit(pending);
}
