/**
 * "did you mean" hints for misspelt keys and names.
 *
 * @module
 */

/**
 * The edit distance, for "did you mean" hints: insertions, deletions,
 * substitutions and swaps of two neighbouring letters (`tpc` is one edit
 * from `tcp`, `hots` from `host`) each count one.
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      }
      cur.push(d);
    }
    [before, prev] = [prev, cur];
  }
  return prev[b.length] ?? 0;
}

/** The candidate closest to `word` when one is close enough to be a misspelling, else `undefined`. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(Math.max(1, Math.floor(word.length / 3)), word.length - 1) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** `did you mean 'x'? ` when one candidate is close to `word`, else `""`. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const best = closest(word, candidates);
  return best === undefined ? "" : `did you mean '${best}'? `;
}
