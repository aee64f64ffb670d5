import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';

/**
 * Where a JSON pointer lands in the text of a JSON document, as a 1-based line and column, so the
 * recipe editor can put a schema error at the right place; and where the text stops being JSON.
 * Both read jsonc-parser's syntax tree (strict JSON: no comments, no trailing commas), which keeps
 * offsets even in a document with a syntax error further on.
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

const STRICT = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

function tree(text: string): { root: Node | undefined; errors: ParseError[] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, STRICT);
  return { root, errors };
}

export function locatePointer(text: string, pointer: string): TextLocation | undefined {
  const { root } = tree(text);
  if (!root) return undefined;
  let node: Node = root;
  for (const segment of parsePointer(pointer)) {
    const next = childOf(node, segment);
    if (!next) break; // deeper than the document: the deepest part that exists
    node = next;
  }
  // A member's value: point at its key.
  const at = node.parent?.type === 'property' && node.parent.children?.[1] === node ? node.parent.offset : node.offset;
  return locationOf(text, at);
}

function childOf(node: Node, segment: string): Node | undefined {
  if (node.type === 'object') return node.children?.find((p) => p.children?.[0]?.value === segment)?.children?.[1];
  if (node.type === 'array' && /^(0|[1-9]\d*)$/.test(segment)) return node.children?.[Number(segment)];
  return undefined;
}

/** jsonc-parser's error codes (by name: they are a const enum), in words. */
const MESSAGES: Record<string, string> = {
  CommaExpected: '"," was expected',
  ColonExpected: '":" was expected after the key',
  PropertyNameExpected: 'a key in double quotes was expected',
  ValueExpected: 'a value was expected',
  CloseBraceExpected: '"}" was expected',
  CloseBracketExpected: '"]" was expected',
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidSymbol: 'unexpected text: a value was expected',
  UnexpectedEndOfString: 'unterminated string',
  InvalidCharacter: 'control character in string (use \\n, \\t…)',
  InvalidEscapeCharacter: 'invalid escape in string',
  InvalidUnicode: 'invalid \\u escape in string',
  UnexpectedEndOfNumber: 'invalid number',
  UnexpectedEndOfComment: 'comments are not JSON',
  InvalidCommentToken: 'comments are not JSON',
};

/** Where the text stops being JSON, or undefined when it parses. */
export function findSyntaxProblem(text: string): SyntaxProblem | undefined {
  const first = tree(text).errors.sort((a, b) => a.offset - b.offset)[0];
  if (first) return { ...locationOf(text, first.offset), message: MESSAGES[printParseErrorCode(first.error)] ?? 'not valid JSON here' };
  // jsonc-parser is a shade more lenient than JSON.parse in corners: JSON.parse has the last word.
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return { ...locationOf(text, 0), message: err instanceof Error ? err.message : String(err) };
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
