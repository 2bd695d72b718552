/**
 * The PostgreSQL majors pgferry knows, as data in one place for the engine and the CDK construct.
 * Nothing here is a ceiling: a major newer than `newest` follows the version policy's rules
 * (DESIGN.md, "No ceiling"); the tables keyed by major only hold facts about older readers.
 */
export const KNOWN_MAJORS = {
  /** The oldest client major pgferry provisions and lets postgres-version pin. */
  oldest: 12,
  /** The newest major whose facts (archive version it writes, security fixes) pgferry's tables hold. */
  newest: 18,
  /** The oldest major the construct stages into its Lambda layer or image from the release archives. */
  oldestStaged: 14,
} as const;

/** Every known major, oldest first. */
export function knownMajors(): number[] {
  const majors: number[] = [];
  for (let m = KNOWN_MAJORS.oldest; m <= KNOWN_MAJORS.newest; m++) majors.push(m);
  return majors;
}
