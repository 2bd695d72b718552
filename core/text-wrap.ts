/** Lines no wider than the terminal: help and long messages read at 80 columns as at 200. */

/** The width to wrap to: the terminal's when `stream` is one, else 80 (a pipe, a file, a CI log). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }): number {
  const columns = stream.isTTY ? stream.columns : undefined;
  // Below 40 columns wrapping makes things worse, not better.
  return columns !== undefined && columns > 0 ? Math.max(40, columns) : 80;
}

/**
 * One line broken at spaces into lines of at most `width` characters, each continuation indented by
 * `hang` spaces. A word longer than the width (a URL, a path) stays whole on a line of its own.
 */
export function wrapLine(line: string, width: number, hang: number): string[] {
  if (line.length <= width) return [line];
  const lead = /^\s*/.exec(line)?.[0] ?? '';
  const words = line.slice(lead.length).split(/ +/);
  const out: string[] = [];
  let current = lead + (words.shift() ?? '');
  const indent = ' '.repeat(hang);
  for (const word of words) {
    if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = indent + word;
    }
  }
  out.push(current);
  return out;
}

/**
 * Every line of `text` wrapped to `width`; a continuation is indented two spaces past its line's
 * own indent, or for a list item (`- …`) under the item's text.
 */
export function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      const [lead = '', bullet] = /^\s*(- )?/.exec(line) ?? [];
      return wrapLine(line, width, bullet ? lead.length : lead.length + 2);
    })
    .join('\n');
}

/**
 * The width for messages: the terminal's at a terminal; unbounded otherwise, so that a message in a
 * log or a pipe stays one line for grep and for the scripts that match it.
 */
export function messageWidth(stream: { isTTY?: boolean; columns?: number }): number {
  return stream.isTTY ? terminalWidth(stream) : Infinity;
}
