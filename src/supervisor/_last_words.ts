/**
 * Which line of a child's stderr the supervisor quotes when it gives up on
 * the child.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;
/** `    at f (file:///…)`: a line of a JavaScript stack trace. */
const STACK_FRAME = /^\s+at\s/;
/** A line of carets under the source line of an uncaught error. */
const CARETS = /^\s*\^+\s*$/;
/**
 * Lines that belong to a trace already begun: a cause (`Caused by: …`), an
 * indented nested error (an AggregateError's), Node's closing version line.
 */
const TRACE_TAIL = /^(Caused by:|\s|Node\.js v\d)/;
/** Lines an `error:` heading is kept for before its trace begins (message lines, source, carets). */
const HEADING_REACH = 8;

/**
 * The line of a child's stderr that most likely says why it failed: its last
 * non-blank line, unless that belongs to a stack trace (an uncaught
 * exception); then the trace's error line: Deno's `error: Uncaught …` line
 * when there is one (kept through a message of several lines, the source
 * line and carets before the trace, and through causes and nested errors
 * after it), else the last line before the trace that is not carets
 * (`Error: …` from `console.error(e)` or Node). Colour codes are removed.
 */
export class LastWords {
  /** The line to quote; `undefined` until a non-blank line came. */
  line: string | undefined = undefined;
  /** Non-blank lines since the last stack frame, at most 3. */
  #recent: string[] = [];
  #inTrace = false;
  /** The last `error:` line, and how many lines came after it (before a trace began). */
  #heading: string | undefined = undefined;
  #sinceHeading = 0;

  /** Takes the next line written to stderr. */
  add(text: string): void {
    if (text.trim() === "") return;
    const plain = text.includes("\x1b") ? text.replace(ANSI_ESCAPE, "") : text;
    if (STACK_FRAME.test(plain)) {
      if (!this.#inTrace) {
        this.#inTrace = true;
        this.line = this.#heading ?? this.#recent.findLast((l) => !CARETS.test(l)) ?? plain;
      }
      return;
    }
    if (this.#inTrace) {
      // A cause, a nested error or Node's version line: still the same failure.
      if (TRACE_TAIL.test(plain)) return;
      this.#inTrace = false;
      this.#recent = [];
      this.#heading = undefined;
    }
    if (plain.trimStart().startsWith("error:")) {
      this.#heading = plain;
      this.#sinceHeading = 0;
    } else if (this.#heading !== undefined && ++this.#sinceHeading > HEADING_REACH) {
      this.#heading = undefined;
    }
    if (this.#recent.length === 3) this.#recent.shift();
    this.#recent.push(plain);
    this.line = plain;
  }
}
