// "Perhaps you meant …" hints: the closest name by character-gram similarity,
// re-scored by edit distance (the approach of the fuzzy set PostgREST uses).
function grams(text: string, size: number): Map<string, number> {
  const padded = `-${text.toLowerCase()}-`;
  const out = new Map<string, number>();
  for (let i = 0; i + size <= padded.length; i++) {
    const g = padded.slice(i, i + size);
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  for (const [g, n] of a) dot += n * (b.get(g) ?? 0);
  const norm = (m: Map<string, number>) => Math.sqrt([...m.values()].reduce((s, n) => s + n * n, 0));
  return dot === 0 ? 0 : dot / (norm(a) * norm(b));
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Candidates sharing character grams with `value`, best first, each with a 0..1 score. */
export function fuzzyMatches(candidates: Iterable<string>, value: string): Array<[score: number, name: string]> {
  const list = [...new Set(candidates)];
  for (const size of [3, 2]) {
    const target = grams(value, size);
    const near = list.filter((c) => cosine(grams(c, size), target) > 0);
    if (near.length === 0) continue;
    const lower = value.toLowerCase();
    return near
      .map((c): [number, string] => [1 - levenshtein(c.toLowerCase(), lower) / Math.max(c.length, value.length, 1), c])
      .sort((x, y) => y[0] - x[0]);
  }
  return [];
}

/** The best candidate scoring at least `minScore`, or undefined. */
export function closest(candidates: Iterable<string>, value: string, minScore: number): string | undefined {
  const [best] = fuzzyMatches(candidates, value);
  return best && best[0] >= minScore ? best[1] : undefined;
}
