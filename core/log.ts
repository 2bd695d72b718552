/**
 * The engine's only way to speak. Front ends plug in their own sink (Actions annotations, JSON lines
 * for Lambda, plain stderr for the CLI); the engine never writes to the console itself.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} };

/** A logger that keeps what it was told; tests and summaries read `warnings` back. */
export class RecordingLogger implements Logger {
  readonly lines: { level: 'debug' | 'info' | 'warn'; message: string }[] = [];
  constructor(private readonly inner: Logger = silentLogger) {}
  get warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
    this.inner.debug(message);
  }
  info(message: string): void {
    this.lines.push({ level: 'info', message });
    this.inner.info(message);
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
    this.inner.warn(message);
  }
}

/** Plain stderr lines for the CLI and scripts. */
export const stderrLogger: Logger = {
  debug(message) {
    if (process.env.PGFERRY_DEBUG) process.stderr.write(`debug: ${message}\n`);
  },
  info(message) {
    process.stderr.write(`${message}\n`);
  },
  warn(message) {
    process.stderr.write(`warning: ${message}\n`);
  },
};
