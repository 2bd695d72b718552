/**
 * Splits a SQL script into statements exactly where psql does (its lexer, psqlscan.l): quotes of
 * every kind (standard and escape strings, quote continuation across newlines, quoted identifiers,
 * dollar quotes), nested comments, parentheses, SQL-standard function bodies (`BEGIN ATOMIC … END`),
 * backslash meta-commands and COPY … FROM stdin data. It reads bytes as they stream and only reports
 * events with absolute byte offsets; what to do with them is the caller's business (script-filter.ts).
 *
 * Agreeing with psql is the point: a statement boundary psql sees and this lexer does not would let a
 * script smuggle a statement (a `COMMIT`, a `\!`) past the filter.
 */
export interface LexerEvents {
  /** The first byte of a statement's first token. */
  statementStart(offset: number, line: number): void;
  /** A bare word of the current statement at parenthesis depth 0 (keywords are words), upper-cased. */
  word(word: string): void;
  /** The statement's terminating `;` (psql sends it here); `end` is the offset after it. */
  statementEnd(end: number, copyIn: boolean): void;
  /** A backslash command begins (held until `meta` says what it is). */
  metaStart(offset: number): void;
  /** A backslash command: its text up to the end of its line (at most 1 KiB kept), start offset and line. */
  meta(text: string, offset: number, line: number, atStatementBoundary: boolean): void;
  /** A `:NAME` psql variable reference outside quotes. */
  variable(name: string, line: number): void;
  /** Something after `COPY … FROM stdin;` on the same line (psql would run it after the data). */
  afterCopy(line: number): void;
  /** The COPY data's `\.` line ended; `end` is the offset after it. */
  copyEnd(end: number): void;
  /** A string literal, dollar-quoted string or comment spans [start, end) (for readers of names). */
  quoted?(start: number, end: number, kind: 'literal' | 'comment'): void;
}

const enum S {
  Top,
  Dash,
  Slash,
  LineComment,
  Block,
  BlockStar,
  BlockSlash,
  Quote,
  QuoteEnd,
  QuoteEndLine,
  QuoteEndSpace,
  QuoteEndNewline,
  QuoteEndDash,
  QuoteEndComment,
  EscQuote,
  EscQuoteBackslash,
  DoubleQuote,
  DoubleQuoteEnd,
  DollarOpen,
  Dollar,
  Colon,
  ColonName,
  UAmp,
  Meta,
  CopyRest,
  CopyLineStart,
  CopyBackslash,
  CopyDot,
  CopyDotCr,
  CopyLine,
}

const NL = 0x0a;
const CR = 0x0d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === NL || c === CR || c === 0x0c || c === 0x0b;
}
function isHorizontalSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0c || c === 0x0b;
}
function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
/** psql's variable_char, and dollar-quote tag characters after the first. */
function isNameChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** The index of the next line break (LF or CR) from `from`, or -1. */
function lineBreak(chunk: Buffer, from: number): number {
  const lf = chunk.indexOf(NL, from);
  const cr = chunk.indexOf(CR, from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

/** Words kept for keyword checks are short; a longer one is no keyword. */
const WORD_KEEP = 64;
const META_KEEP = 1024;

export class PsqlLexer {
  private state = S.Top;
  /** The string state a closing quote may continue (`'a'\n'b'` is one literal). */
  private quoteKind: S.Quote | S.EscQuote = S.Quote;
  /** Where the literal or comment being read began, and where the last closing quote ended. */
  private quotedAt = 0;
  private quoteClosedAt = 0;
  private offset = 0;
  line = 1;
  private inStatement = false;
  private parenDepth = 0;
  private beginDepth = 0;
  /** psql's heuristic for CREATE [OR REPLACE] FUNCTION|PROCEDURE: first letters of its first words. */
  private createWords: string[] = [];
  private wordCount = 0;
  private word = '';
  /** Whether the current word has an identifier character (then `$` continues it). */
  private wordIsIdent = false;
  /** Words that start with a digit are numbers (or psql's "junk"), never identifiers. */
  private wordIsNumber = false;
  private inWord = false;
  private previousWord = '';
  private copyIn = false;
  private firstWord = '';
  private blockDepth = 0;
  private dollarTag = '';
  private dollarMatch = 0;
  private metaText = '';
  private metaOffset = 0;
  private metaLine = 0;
  private metaAtBoundary = false;
  private varName = '';
  /** `standard_conforming_strings`: psql reads it from the server once per line. */
  private standardStrings = true;
  private pendingStandardStrings: boolean | undefined;

  constructor(private readonly on: LexerEvents) {}

  /** Takes effect from the next line on, as in psql. */
  setStandardStrings(on: boolean): void {
    this.pendingStandardStrings = on;
  }

  /** Whether the script so far ends between statements (nothing open, no COPY data pending). */
  atBoundary(): boolean {
    return (
      !this.inStatement && (this.state === S.Top || this.state === S.LineComment) && this.blockDepth === 0
    );
  }

  /** What is open at the end of the script, for a message; undefined when it ends cleanly. */
  openConstruct(): string | undefined {
    if (this.atBoundary()) return undefined;
    switch (this.state) {
      case S.Quote:
      case S.QuoteEnd:
      case S.QuoteEndLine:
      case S.EscQuote:
      case S.EscQuoteBackslash:
        return 'a string literal';
      case S.DoubleQuote:
        return 'a quoted identifier';
      case S.Dollar:
        return 'a dollar-quoted string';
      case S.Block:
      case S.BlockStar:
      case S.BlockSlash:
        return 'a comment';
      case S.CopyLineStart:
      case S.CopyBackslash:
      case S.CopyDot:
      case S.CopyDotCr:
      case S.CopyLine:
        return 'COPY data (no \\. line)';
      default:
        return 'a statement without its semicolon';
    }
  }

  private startStatement(at: number): void {
    if (this.inStatement) return;
    this.inStatement = true;
    this.wordCount = 0;
    this.createWords = [];
    this.firstWord = '';
    this.previousWord = '';
    this.copyIn = false;
    this.on.statementStart(at, this.line);
  }

  private endWord(): void {
    if (!this.inWord) return;
    this.inWord = false;
    if (this.wordIsNumber) return;
    const upper = this.word.toUpperCase();
    this.trackBeginDepth(upper);
    if (this.parenDepth === 0) {
      if (this.wordCount === 1) this.firstWord = upper;
      if (this.firstWord === 'COPY' && this.previousWord === 'FROM' && upper === 'STDIN') this.copyIn = true;
      this.previousWord = upper;
      this.on.word(upper);
    }
  }

  /** psqlscan.l's rule: semicolons inside BEGIN … END of a new function's body do not end it. */
  private trackBeginDepth(upper: string): void {
    const index = this.wordCount++;
    if (index < 4 && ['CREATE', 'OR', 'REPLACE', 'FUNCTION', 'PROCEDURE'].includes(upper))
      this.createWords[index] = upper[0] ?? '';
    const w = this.createWords;
    const creating =
      w[0] === 'C' &&
      (w[1] === 'F' || w[1] === 'P' || (w[1] === 'O' && w[2] === 'R' && (w[3] === 'F' || w[3] === 'P')));
    if (!creating || this.parenDepth !== 0) return;
    if (upper === 'BEGIN') this.beginDepth++;
    else if (upper === 'CASE' && this.beginDepth >= 1) this.beginDepth++;
    else if (upper === 'END' && this.beginDepth > 0) this.beginDepth--;
  }

  private endStatement(end: number): void {
    const copyIn = this.copyIn;
    this.inStatement = false;
    this.wordCount = 0;
    this.createWords = [];
    this.on.statementEnd(end, copyIn);
    if (copyIn) this.state = S.CopyRest;
  }

  private newline(): void {
    this.line++;
    if (this.pendingStandardStrings !== undefined) {
      this.standardStrings = this.pendingStandardStrings;
      this.pendingStandardStrings = undefined;
    }
  }

  /**
   * Feeds the next bytes of the script. Each state belongs to one construct, and each construct's
   * method takes one step (or a run of bytes found by indexOf) and returns the next index.
   */
  write(chunk: Buffer): void {
    const base = this.offset;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const c = chunk[i] as number;
      switch (this.state) {
        case S.CopyLine:
          i = this.copyLine(chunk, i);
          break;
        case S.CopyLineStart:
        case S.CopyBackslash:
        case S.CopyDot:
        case S.CopyDotCr:
          i = this.copyLineStart(c, i, base);
          break;
        case S.CopyRest:
          i = this.copyStatementRest(c, i);
          break;
        case S.Top:
          i = this.top(chunk, i, base);
          break;
        case S.LineComment:
          i = this.lineComment(chunk, i, base);
          break;
        case S.Dash:
        case S.Slash:
          i = this.commentOpening(c, i, base);
          break;
        case S.Block:
        case S.BlockStar:
        case S.BlockSlash:
          i = this.blockComment(c, i, base);
          break;
        case S.Quote:
          i = this.standardLiteral(chunk, i, base);
          break;
        case S.EscQuote:
        case S.EscQuoteBackslash:
          i = this.escapeLiteral(c, i, base);
          break;
        case S.QuoteEnd:
        case S.QuoteEndLine:
          i = this.afterClosingQuote(c, i, base);
          break;
        case S.QuoteEndSpace:
        case S.QuoteEndNewline:
        case S.QuoteEndDash:
        case S.QuoteEndComment:
          i = this.literalContinuationGap(c, i, base);
          break;
        case S.DoubleQuote:
        case S.DoubleQuoteEnd:
          i = this.quotedIdentifier(chunk, i);
          break;
        case S.DollarOpen:
          i = this.dollarOpening(c, i, base);
          break;
        case S.Dollar:
          i = this.dollarBody(chunk, i, base);
          break;
        case S.Colon:
        case S.ColonName:
          i = this.variableReference(c, i);
          break;
        case S.UAmp:
          i = this.unicodePrefix(c, i, base);
          break;
        case S.Meta:
          i = this.metaCommand(c, i);
          break;
      }
    }
    this.offset += n;
  }

  /** Inside a COPY data line: nothing in it matters but where it ends. */
  private copyLine(chunk: Buffer, i: number): number {
    const nl = chunk.indexOf(NL, i);
    if (nl === -1) return chunk.length;
    this.newline();
    this.state = S.CopyLineStart;
    return nl + 1;
  }

  /** The first bytes of a COPY data line: only `\.` alone on its line (LF or CRLF) ends the data. */
  private copyLineStart(c: number, i: number, base: number): number {
    switch (this.state) {
      case S.CopyLineStart:
        this.state = c === 0x5c ? S.CopyBackslash : c === NL ? S.CopyLineStart : S.CopyLine;
        break;
      case S.CopyBackslash:
        this.state = c === 0x2e ? S.CopyDot : c === NL ? S.CopyLineStart : S.CopyLine;
        break;
      default:
        // S.CopyDot or S.CopyDotCr.
        if (c === NL) {
          this.newline();
          this.state = S.Top;
          this.on.copyEnd(base + i + 1);
          return i + 1;
        }
        this.state = c === CR && this.state === S.CopyDot ? S.CopyDotCr : S.CopyLine;
        return i + 1;
    }
    if (c === NL) this.newline();
    return i + 1;
  }

  /** The rest of the `COPY … FROM stdin;` line: anything but spaces is reported, then read as data. */
  private copyStatementRest(c: number, i: number): number {
    if (c === NL) {
      this.newline();
      this.state = S.CopyLineStart;
    } else if (!isSpace(c)) {
      this.on.afterCopy(this.line);
      this.state = S.CopyLine;
      return i;
    }
    return i + 1;
  }

  private lineComment(chunk: Buffer, i: number, base: number): number {
    // psql ends a `--` comment at a carriage return too: what follows it on the line is SQL.
    const stop = lineBreak(chunk, i);
    if (stop === -1) return chunk.length;
    this.state = S.Top;
    this.on.quoted?.(this.quotedAt, base + stop, 'comment');
    return stop;
  }

  /** A `-` or `/` was read: a comment begins if the next byte doubles it, otherwise it was SQL. */
  private commentOpening(c: number, i: number, base: number): number {
    if (this.state === S.Dash && c === 0x2d) {
      this.state = S.LineComment;
      this.quotedAt = base + i - 1;
      return i + 1;
    }
    if (this.state === S.Slash && c === 0x2a) {
      this.blockDepth = 0;
      this.state = S.Block;
      this.quotedAt = base + i - 1;
      return i + 1;
    }
    this.startStatement(base + i - 1);
    this.state = S.Top;
    return i;
  }

  /** A block comment; they nest, as in PostgreSQL. */
  private blockComment(c: number, i: number, base: number): number {
    switch (this.state) {
      case S.Block:
        if (c === 0x2a) this.state = S.BlockStar;
        else if (c === 0x2f) this.state = S.BlockSlash;
        else if (c === NL) this.newline();
        return i + 1;
      case S.BlockStar:
        if (c === 0x2a) return i + 1;
        if (c !== 0x2f) {
          this.state = S.Block;
          return i;
        }
        if (this.blockDepth === 0) {
          this.state = S.Top;
          this.on.quoted?.(this.quotedAt, base + i + 1, 'comment');
        } else {
          this.blockDepth--;
          this.state = S.Block;
        }
        return i + 1;
      default:
        // S.BlockSlash.
        this.state = S.Block;
        if (c !== 0x2a) return i;
        this.blockDepth++;
        return i + 1;
    }
  }

  /** A standard string: only a quote matters (it may close the literal or double a quote). */
  private standardLiteral(chunk: Buffer, i: number, base: number): number {
    const q = chunk.indexOf(0x27, i);
    const stop = q === -1 ? chunk.length : q;
    this.countLines(chunk, i, stop);
    if (q === -1) return stop;
    this.quoteKind = S.Quote;
    this.state = S.QuoteEnd;
    this.quoteClosedAt = base + q + 1;
    return q + 1;
  }

  /** An escape string (`E'…'`, or any string while standard_conforming_strings is off). */
  private escapeLiteral(c: number, i: number, base: number): number {
    if (c === NL) this.newline();
    if (this.state === S.EscQuoteBackslash) this.state = S.EscQuote;
    else if (c === 0x5c) this.state = S.EscQuoteBackslash;
    else if (c === 0x27) {
      this.quoteKind = S.EscQuote;
      this.state = S.QuoteEnd;
      this.quoteClosedAt = base + i + 1;
    }
    return i + 1;
  }

  // After a closing quote (psqlscan's xqs). psql scans one line at a time without its LF, so only a
  // CR can be the line break a continuation needs (`'a'\r'b'` is one literal), and an LF right after
  // the quote carries the state to the next line.
  private afterClosingQuote(c: number, i: number, base: number): number {
    if (c === 0x27) {
      // `''` is a quote inside the literal; at the start of a line it begins a new one.
      if (this.state === S.QuoteEndLine) {
        this.literalEnded(base + i);
        return i;
      }
      this.state = this.quoteKind;
    } else if (c === NL) {
      this.newline();
      this.state = S.QuoteEndLine;
    } else if (c === CR) this.state = S.QuoteEndNewline;
    else if (isHorizontalSpace(c)) this.state = S.QuoteEndSpace;
    else if (c === 0x2d) this.state = S.QuoteEndDash;
    else {
      this.literalEnded(base + i);
      return i;
    }
    return i + 1;
  }

  /** Spaces, a CR and `--` comments between the parts of a literal continued across lines. */
  private literalContinuationGap(c: number, i: number, base: number): number {
    switch (this.state) {
      case S.QuoteEndSpace:
        if (isHorizontalSpace(c)) return i + 1;
        if (c === CR) this.state = S.QuoteEndNewline;
        else if (c === 0x2d) this.state = S.QuoteEndDash;
        else break;
        return i + 1;
      case S.QuoteEndNewline:
        if (c === 0x27) this.state = this.quoteKind;
        else if (c === 0x2d) this.state = S.QuoteEndDash;
        else if (!isSpace(c) || c === NL) break;
        return i + 1;
      case S.QuoteEndDash:
        if (c === 0x2d) {
          this.state = S.QuoteEndComment;
          return i + 1;
        }
        // A lone `-` after a literal: an operator inside the statement, nothing to track.
        this.literalEnded(base + i - 1);
        return i;
      default:
        // S.QuoteEndComment: it must end in a CR for the literal to go on; at the line's end it does not.
        if (c === CR) this.state = S.QuoteEndNewline;
        else if (c === NL) break;
        return i + 1;
    }
    this.literalEnded(base + i);
    return i;
  }

  /** A `"…"` identifier: only a quote matters (it may close it or double a quote). */
  private quotedIdentifier(chunk: Buffer, i: number): number {
    if (this.state === S.DoubleQuoteEnd) {
      if (chunk[i] !== 0x22) {
        this.state = S.Top;
        return i;
      }
      this.state = S.DoubleQuote;
      return i + 1;
    }
    const q = chunk.indexOf(0x22, i);
    const stop = q === -1 ? chunk.length : q;
    this.countLines(chunk, i, stop);
    if (q === -1) return stop;
    this.state = S.DoubleQuoteEnd;
    return q + 1;
  }

  /** After a `$`: a tag and a second `$` open a dollar quote; anything else leaves a lone `$`. */
  private dollarOpening(c: number, i: number, base: number): number {
    if (c === 0x24) {
      this.state = S.Dollar;
      this.dollarMatch = 0;
      return i + 1;
    }
    if (this.dollarTag.length === 0 ? isIdentStart(c) : isNameChar(c)) {
      this.dollarTag += String.fromCharCode(c);
      return i + 1;
    }
    // Not a dollar quote (`$1`, `$x` …): the `$` stands alone and the tag read so far is read again.
    const tag = this.dollarTag;
    this.state = S.Top;
    this.dollarTag = '';
    const bytes = Buffer.from(tag, 'latin1');
    for (let k = 0; k < bytes.length;) k = this.top(bytes, k, base + i - tag.length);
    return i;
  }

  /** Inside a dollar-quoted string: skips to each `$` and matches the closing `$tag$` byte by byte. */
  private dollarBody(chunk: Buffer, i: number, base: number): number {
    if (this.dollarMatch === 0) {
      const d = chunk.indexOf(0x24, i);
      const stop = d === -1 ? chunk.length : d;
      this.countLines(chunk, i, stop);
      if (d === -1) return stop;
      this.dollarMatch = 1;
      return d + 1;
    }
    const c = chunk[i] as number;
    const delimiter = `$${this.dollarTag}$`;
    if (c === delimiter.charCodeAt(this.dollarMatch)) {
      this.dollarMatch++;
      if (this.dollarMatch === delimiter.length) this.closeDollar(base + i + 1);
    } else {
      // A `$` that breaks the match may itself start the closing delimiter.
      this.dollarMatch = c === 0x24 ? 1 : 0;
      if (c === NL) this.newline();
    }
    return i + 1;
  }

  /** After a `:` outside quotes: `::` and `:=` are SQL, `:name` is a psql variable. */
  private variableReference(c: number, i: number): number {
    if (this.state === S.ColonName) {
      if (isNameChar(c)) {
        if (this.varName.length < WORD_KEEP) this.varName += String.fromCharCode(c);
        return i + 1;
      }
      this.on.variable(this.varName, this.line);
      this.state = S.Top;
      return i;
    }
    if (c === 0x3a || c === 0x3d) {
      this.state = S.Top;
      return i + 1;
    }
    if (isNameChar(c)) {
      this.varName = '';
      this.state = S.ColonName;
    } else this.state = S.Top;
    return i;
  }

  /** After `U&`: `U&'…'` is never an escape string, whatever standard_conforming_strings says. */
  private unicodePrefix(c: number, i: number, base: number): number {
    if (c === 0x27) {
      this.state = S.Quote;
      this.quotedAt = base + i;
      return i + 1;
    }
    this.state = c === 0x22 ? S.DoubleQuote : S.Top;
    return c === 0x22 ? i + 1 : i;
  }

  /** A backslash command runs to the end of its line. */
  private metaCommand(c: number, i: number): number {
    if (c === NL) {
      this.newline();
      this.on.meta(this.metaText, this.metaOffset, this.metaLine, this.metaAtBoundary);
      this.state = S.Top;
    } else if (this.metaText.length < META_KEEP) this.metaText += String.fromCharCode(c);
    return i + 1;
  }

  /** Ends the script: a meta-command on its last line without a newline still counts. */
  end(): void {
    this.endWord();
    if (this.state === S.Meta) {
      this.on.meta(this.metaText, this.metaOffset, this.metaLine, this.metaAtBoundary);
      this.state = S.Top;
    }
    if (this.state === S.ColonName) {
      this.on.variable(this.varName, this.line);
      this.state = S.Top;
    }
    if (this.state === S.LineComment) this.on.quoted?.(this.quotedAt, this.offset, 'comment');
    if (
      [S.QuoteEnd, S.QuoteEndLine, S.QuoteEndSpace, S.QuoteEndNewline, S.QuoteEndComment].includes(this.state)
    )
      this.literalEnded(this.offset);
  }

  /** The literal is over: it and any spaces or comments read after it while looking for more. */
  private literalEnded(at: number): void {
    this.state = S.Top;
    this.on.quoted?.(this.quotedAt, this.quoteClosedAt, 'literal');
    if (at > this.quoteClosedAt) this.on.quoted?.(this.quoteClosedAt, at, 'comment');
  }

  private closeDollar(end: number): void {
    this.on.quoted?.(this.quotedAt, end, 'literal');
    this.state = S.Top;
    this.dollarTag = '';
    this.dollarMatch = 0;
  }

  private countLines(chunk: Buffer, from: number, to: number): void {
    let at = chunk.indexOf(NL, from);
    while (at !== -1 && at < to) {
      this.newline();
      at = chunk.indexOf(NL, at + 1);
    }
  }

  /** One step between tokens or inside a word; returns the next index. */
  private top(chunk: Buffer, i: number, base: number): number {
    const c = chunk[i] as number;
    if (this.inWord) {
      if (isNameChar(c) || (c === 0x24 && this.wordIsIdent)) {
        if (isIdentStart(c)) this.wordIsIdent = true;
        if (this.word.length < WORD_KEEP) this.word += String.fromCharCode(c);
        return i + 1;
      }
      if (this.endWordBefore(c, base + i)) return i + 1;
    }
    if (isSpace(c)) {
      if (c === NL) this.newline();
      return i + 1;
    }
    const at = base + i;
    switch (c) {
      case 0x2d:
        this.state = S.Dash;
        return i + 1;
      case 0x2f:
        this.state = S.Slash;
        return i + 1;
      case 0x5c:
        this.startMeta(at);
        return i;
    }
    this.startStatement(at);
    if (isIdentStart(c) || isDigit(c)) {
      this.inWord = true;
      this.wordIsIdent = isIdentStart(c);
      this.wordIsNumber = isDigit(c);
      this.word = String.fromCharCode(c);
    } else this.punctuation(c, at);
    return i + 1;
  }

  /**
   * Ends the word being read at byte `c`; true when the word was a string prefix that `c` completes
   * (`E'`, `B'`, `X'`, `U&`), so the string's state is entered.
   */
  private endWordBefore(c: number, at: number): boolean {
    const word = this.word;
    this.endWord();
    if (word.length !== 1 || (c !== 0x27 && c !== 0x26)) return false;
    const prefix = word.toUpperCase();
    if (c === 0x27 && (prefix === 'E' || prefix === 'B' || prefix === 'X')) {
      this.state = prefix === 'E' ? S.EscQuote : S.Quote;
      this.quotedAt = at;
      return true;
    }
    if (c === 0x26 && prefix === 'U') {
      this.state = S.UAmp;
      return true;
    }
    return false;
  }

  private startMeta(at: number): void {
    this.metaText = '';
    this.metaOffset = at;
    this.metaLine = this.line;
    this.metaAtBoundary = !this.inStatement;
    this.state = S.Meta;
    this.on.metaStart(at);
  }

  /** A byte of a statement that is neither a word nor a space. */
  private punctuation(c: number, at: number): void {
    switch (c) {
      case 0x27:
        this.state = this.standardStrings ? S.Quote : S.EscQuote;
        this.quotedAt = at;
        break;
      case 0x22:
        this.state = S.DoubleQuote;
        break;
      case 0x24:
        this.quotedAt = at;
        this.dollarTag = '';
        this.state = S.DollarOpen;
        break;
      case 0x3a:
        this.state = S.Colon;
        break;
      case 0x28:
        this.parenDepth++;
        break;
      case 0x29:
        if (this.parenDepth > 0) this.parenDepth--;
        break;
      case 0x3b:
        if (this.parenDepth === 0 && this.beginDepth === 0) this.endStatement(at + 1);
        break;
    }
  }
}
