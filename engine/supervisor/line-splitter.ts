/** Lines longer than this are cut (a runaway progress bar must not eat memory). */
export const MAX_LINE_CHARS = 16 * 1024;

/**
 * Turn output chunks into lines. Carriage returns end a line too, so progress bars that redraw
 * with `\r` show up as separate lines instead of one endless one.
 */
export class LineSplitter {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    const parts = text.split(/\r\n|\n|\r/);
    this.rest = parts.pop() ?? '';
    for (const part of parts) this.emit(part);
    while (this.rest.length > MAX_LINE_CHARS) {
      this.emit(this.rest.slice(0, MAX_LINE_CHARS));
      this.rest = this.rest.slice(MAX_LINE_CHARS);
    }
  }

  /** The unterminated tail, when the stream ends. */
  flush(): void {
    if (this.rest !== '') this.emit(this.rest);
    this.rest = '';
  }

  private emit(line: string): void {
    this.onLine(line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line);
  }
}
