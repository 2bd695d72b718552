/**
 * The CLI's `--json` report with its fields camelCased: the CLI names them as the Action's outputs
 * (`client-version`, `duration-seconds`), scripts read them as `clientVersion`, `durationSeconds`.
 */
export function camelFields(json: string): unknown {
  return Object.fromEntries(
    Object.entries(JSON.parse(json) as Record<string, unknown>).map(([k, v]) => [
      k.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()),
      v,
    ]),
  );
}
