/**
 * Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours each cost
 * one (optimal string alignment), so `dupm` is one edit from `dump`, as a typist would count.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    const previous = rows[i - 1] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      current.push(best);
    }
    rows.push(current);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The known names a misspelt one most likely meant: the nearest within two edits (one for short
 * names, where two edits reach too many unrelated words), and the one or two it begins (`--form`:
 * `--format`); in `known`'s order.
 */
export function nearNames(name: string, known: Iterable<string>): string[] {
  const limit = name.length <= 4 ? 1 : 2;
  const typed = name.toLowerCase();
  const scored = [...known].map((candidate) => ({
    candidate,
    distance: editDistance(typed, candidate.toLowerCase()),
    completes:
      typed.length >= 4 && candidate.toLowerCase().startsWith(typed) && candidate.length > typed.length,
  }));
  const best = Math.min(...scored.map((s) => s.distance));
  // A start that many names share (`--s3`) points at none of them.
  const completing = scored.filter((s) => s.completes).length <= 2;
  return scored
    .filter((s) => (s.distance === best && s.distance <= limit) || (completing && s.completes))
    .map((s) => s.candidate);
}

/** The nearest known name, or none. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  return nearNames(name, known)[0];
}

/** `did you mean X?` (or `X or Y?`) for a near miss, else the fallback hint (where the names are). */
export function didYouMean(name: string, known: Iterable<string>, otherwise: string): string {
  const near = nearNames(name, known);
  return near.length === 0 ? otherwise : `did you mean ${near.join(' or ')}?`;
}
