import { parseConnection, secretsOf } from '../core/pg/connection.js';

/**
 * Passwords in `from` and `to`, found before anything is parsed or logged, so that even an error
 * about a malformed input cannot print one. The whole text is read as one connection, and each of
 * its lines as one too: a backup's `from` holds one connection per line, and every line's password
 * is a secret (not only the first). A line that does not parse gets a loose scan instead.
 */
export function passwordsIn(raw: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const text = (raw ?? '').trim();
  if (!text) return [];
  const found = new Set<string>();
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  for (const candidate of new Set([text, ...lines.filter(Boolean)])) {
    for (const secret of passwordsOfOne(candidate, env)) found.add(secret);
  }
  return [...found].filter((s) => s.length > 0);
}

function passwordsOfOne(text: string, env: NodeJS.ProcessEnv): string[] {
  try {
    return secretsOf(parseConnection(text, 'input', env));
  } catch {
    return looseScan(text);
  }
}

/** Passwords by their shape: `scheme://user:password@` and `password=…`, wherever they appear. */
function looseScan(text: string): string[] {
  const found: string[] = [];
  for (const [, url] of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\n]*)@/gi)) {
    if (!url) continue;
    found.push(url);
    try {
      found.push(decodeURIComponent(url));
    } catch {
      // keep the raw form only
    }
  }
  for (const [, kv] of text.matchAll(/(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi)) {
    if (kv) found.push(kv.replace(/^'|'$/g, ''));
  }
  return found;
}
