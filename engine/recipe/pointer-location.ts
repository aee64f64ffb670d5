/**
 * Where a JSON pointer lands in the text of a JSON document, as a 1-based line and column, so the
 * recipe editor can put a schema error at the right place. A small scanner of its own (no
 * dependency): it walks the text once, following only the pointer's path, and also reports where
 * the text stops being valid JSON.
 *
 * A pointer to an object member lands on the member's key (that is what an unknown-key error is
 * about); to an array element, on the element. A pointer that goes deeper than the document (a
 * missing key) lands on the deepest part that exists.
 */
export interface TextLocation {
  line: number;
  column: number;
  offset: number;
}

export interface SyntaxProblem extends TextLocation {
  message: string;
}

export function locatePointer(text: string, pointer: string): TextLocation | undefined {
  const target = parsePointer(pointer);
  const scanner = new Scanner(text, target);
  try {
    scanner.document();
  } catch (err) {
    if (!(err instanceof JsonSyntax)) throw err;
  }
  return scanner.best === undefined ? undefined : locationOf(text, scanner.best);
}

/** Where the text stops being JSON, or undefined when it parses. */
export function findSyntaxProblem(text: string): SyntaxProblem | undefined {
  const scanner = new Scanner(text, undefined);
  try {
    scanner.document();
    return undefined;
  } catch (err) {
    if (!(err instanceof JsonSyntax)) throw err;
    return { ...locationOf(text, err.offset), message: err.message };
  }
}

/** 1-based line and column (in UTF-16 code units, like editors count) of a character offset. */
export function locationOf(text: string, offset: number): TextLocation {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: clamped - lineStart + 1, offset: clamped };
}

/** RFC 6901: "" is the whole document; "/a~1b/0" is ["a/b", "0"]. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  const body = pointer.startsWith('#') ? decodeURIComponent(pointer.slice(1)) : pointer;
  if (!body.startsWith('/')) return [body];
  return body
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

class JsonSyntax extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

class Scanner {
  private i = 0;
  /** Offset of the deepest matched part of the pointer so far. */
  best: number | undefined;
  private bestDepth = -1;

  constructor(
    private readonly text: string,
    private readonly target: string[] | undefined,
  ) {}

  document(): void {
    this.ws();
    this.value(0);
    this.ws();
    if (this.i < this.text.length) this.fail('unexpected text after the end of the JSON value');
  }

  /** depth: how many pointer segments the path to this value matched; -1 when off the path. */
  private value(depth: number): void {
    this.ws();
    if (depth >= 0) this.mark(depth, this.i);
    const c = this.text[this.i];
    if (c === '{') this.object(depth);
    else if (c === '[') this.array(depth);
    else if (c === '"') this.string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else if (this.text.startsWith('true', this.i)) this.i += 4;
    else if (this.text.startsWith('false', this.i)) this.i += 5;
    else if (this.text.startsWith('null', this.i)) this.i += 4;
    else this.fail(c === undefined ? 'unexpected end of text: a value is missing' : `unexpected character ${JSON.stringify(c)}: a value was expected`);
  }

  private object(depth: number): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail('a key in double quotes was expected');
      const keyAt = this.i;
      const key = this.string();
      const childDepth = this.onPath(depth, key);
      if (childDepth >= 0) this.mark(childDepth, keyAt);
      this.ws();
      if (this.text[this.i] !== ':') this.fail('":" was expected after the key');
      this.i++;
      // The member's value is matched separately so a deeper pointer can go on into it, but the
      // member itself stays located at its key.
      this.value(childDepth >= 0 && childDepth < this.targetLength() ? childDepth : -1);
      this.ws();
      const c = this.text[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return;
      }
      this.fail('"," or "}" was expected');
    }
  }

  private array(depth: number): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (let index = 0; ; index++) {
      this.value(this.onPath(depth, String(index)));
      this.ws();
      const c = this.text[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return;
      }
      this.fail('"," or "]" was expected');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('unterminated string', start);
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          this.i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.text.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else {
          this.fail('invalid escape in string');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail('control character in string (use \\n, \\t…)');
      out += c;
      this.i++;
    }
  }

  private number(): void {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!match || match[0] === '-') this.fail('invalid number');
    this.i += match![0].length;
  }

  private ws(): void {
    while (this.i < this.text.length) {
      const c = this.text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  private targetLength(): number {
    return this.target?.length ?? 0;
  }

  private onPath(depth: number, segment: string): number {
    if (depth < 0 || !this.target || depth >= this.target.length) return -1;
    return this.target[depth] === segment ? depth + 1 : -1;
  }

  private mark(depth: number, offset: number): void {
    // The first occurrence wins (JSON.parse keeps the last duplicate key, but the validator's
    // duplicate-key case is rare and the first one is where a reader looks).
    if (depth > this.bestDepth) {
      this.bestDepth = depth;
      this.best = offset;
    }
  }

  private fail(message: string, offset = this.i): never {
    throw new JsonSyntax(message, offset);
  }
}
