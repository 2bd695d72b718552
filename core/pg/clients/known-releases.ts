// Written by scripts/refresh-releases.mjs from the GitHub releases of theseus-rs/postgresql-binaries;
// edit by running it again, not by hand.
/**
 * The minors published for each major, used when the releases API cannot be asked (offline,
 * rate-limited).
 */
export const KNOWN_RELEASES: Readonly<Record<number, readonly number[]>> = {
  13: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
  14: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
  15: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  16: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  17: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  18: [0, 1, 2, 3, 4, 5, 6],
};
