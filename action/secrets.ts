import { parseConnection, secretsOf } from '../core/pg/connection.js';

/**
 * Passwords in `from` and `to`, found before anything is parsed or logged, so that even an error
 * about a malformed input cannot print one. Falls back to a loose scan when the input does not parse.
 */
export function passwordsIn(raw: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const text = (raw ?? '').trim();
  if (!text) return [];
  const found = new Set<string>();
  try {
    for (const s of secretsOf(parseConnection(text, 'input', env))) found.add(s);
  } catch {
    const url = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(text)?.[1];
    if (url) {
      found.add(url);
      try {
        found.add(decodeURIComponent(url));
      } catch {
        // keep the raw form only
      }
    }
    const kv = /(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(text)?.[1];
    if (kv) found.add(kv.replace(/^'|'$/g, ''));
  }
  return [...found].filter((s) => s.length > 0);
}
