/** Lines longer than this are cut (a runaway bar must not eat memory). */
const MAX_LINE_CHARS = 16 * 1024;
const ERASE_TO_EOL = '\x1b[K';

/**
 * Split terminal output into lines on \r and \n. sd.cpp prints each step bar as "\r<bar>\033[K" and
 * only the next bar's \r ends it, so a bar that ends in ESC[K is emitted as soon as it is complete:
 * otherwise progress would always lag one step (and the last bar before a pause would never show).
 */
export class TerminalLines {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.rest + chunk).split(/\r\n|\n|\r/);
    this.rest = parts.pop() ?? '';
    for (const part of parts) this.emit(part);
    if (this.rest.endsWith(ERASE_TO_EOL) || this.rest.length > MAX_LINE_CHARS) {
      this.emit(this.rest);
      this.rest = '';
    }
  }

  flush(): void {
    if (this.rest !== '') this.emit(this.rest);
    this.rest = '';
  }

  private emit(line: string): void {
    this.onLine(line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line);
  }
}
