import type { Logger } from '../core/log.js';
import { redact } from '../core/pg/run.js';

export type LineSink = (line: string) => void;

export const stdoutSink: LineSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/**
 * One JSON object per line, which CloudWatch Logs Insights queries by field. The engine's messages
 * become `message` lines; the job adds one `step` line per step. Known secrets are masked as a last
 * guard: the engine never logs them, and neither the event, the environment nor the config is logged.
 */
export class JsonLog implements Logger {
  private readonly secrets: string[] = [];

  constructor(
    private readonly sink: LineSink,
    private readonly base: Record<string, string>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  mask(...secrets: string[]): void {
    this.secrets.push(...secrets.filter(Boolean));
  }

  private write(level: string, fields: Record<string, unknown>): void {
    const line = JSON.stringify({ time: this.now().toISOString(), level, ...this.base, ...fields });
    this.sink(redact(line, this.secrets));
  }

  step(step: string, fields: Record<string, unknown> = {}): void {
    this.write('info', { step, ...fields });
  }

  failed(step: string, error: unknown): void {
    this.write('error', { step, error: (error as Error).message ?? String(error) });
  }

  debug(message: string): void {
    if (process.env.PGFERRY_DEBUG) this.write('debug', { message });
  }

  info(message: string): void {
    this.write('info', { message });
  }

  warn(message: string): void {
    this.write('warn', { message });
  }
}
