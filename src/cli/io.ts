/** What a CLI command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Draws a progress bar on stderr when it is a terminal; prints nothing otherwise (logs stay clean). */
export function progressBar(io: CliIo, label: string): { update(done: number, total: number): void; finish(): void } {
  if (!io.stderr.isTTY) return { update() {}, finish() {} };
  let last = '';
  let lastDraw = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - lastDraw < 80 && done < total) return;
      lastDraw = now;
      const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 30));
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * width);
      const line = `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${done}/${total}`;
      if (line !== last) io.stderr.write(line);
      last = line;
    },
    finish() {
      if (last) io.stderr.write('\n');
    },
  };
}

/** A value as the indented JSON a `--json` flag prints. */
export const printJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
