/**
 * JSON nesting limits. `JSON.parse` itself copes with deep input, but everything after it (schema
 * validation, JSON.stringify, our own pointer scanner) recurses, so a document nested a few thousand
 * levels deep would overflow the stack. Every JSON entry point checks the text first, without
 * recursion, and refuses it with a JSON pointer to where the limit is crossed.
 */
export const MAX_JSON_DEPTH = 64;

export interface TooDeep {
  /** RFC 6901 pointer of the first value nested deeper than the limit. */
  pointer: string;
  limit: number;
}

interface Frame {
  array: boolean;
  /** Array: index of the current element; object: the current member's key. */
  at: string;
  index: number;
}

const escapePointer = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Scan `text` (iteratively) and return where it nests deeper than `limit` arrays/objects, or
 * undefined. Text that is not JSON is not judged here (the parser reports it); only depth is.
 */
export function findTooDeep(text: string, limit = MAX_JSON_DEPTH): TooDeep | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top && !top.array) {
        try {
          top.at = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          top.at = text.slice(i + 1, j);
        }
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= limit) {
        return { pointer: stack.map((f) => `/${escapePointer(f.array ? String(f.index) : f.at)}`).join(''), limit };
      }
      stack.push({ array: c === 0x5b, at: '', index: 0 });
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.array) top.index++;
      else if (top) expectKey = true;
    }
  }
  return undefined;
}

/** A message for a refused document (the caller decides the error type). */
export function tooDeepMessage(problem: TooDeep): string {
  return `JSON nested deeper than ${problem.limit} levels at ${problem.pointer || '/'}`;
}
