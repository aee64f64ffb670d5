import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSyntaxProblem, locatePointer, parsePointer } from '../../engine/recipe/pointer-location.js';

const text = `{
  "id": "demo",
  "install": [
    { "kind": "write", "path": "a.txt" },
    {
      "kind": "run",
      "command": ["echo", "hi"],
      "bogus": true
    }
  ],
  "a/b": { "~x": 1 },
  "esc\\"aped": 2
}
`;

test('a member pointer lands on its key, an element pointer on the element', () => {
  assert.deepEqual(pick(locatePointer(text, '/id')), [2, 3]);
  assert.deepEqual(pick(locatePointer(text, '/install')), [3, 3]);
  assert.deepEqual(pick(locatePointer(text, '/install/0')), [4, 5]);
  assert.deepEqual(pick(locatePointer(text, '/install/0/path')), [4, 24]);
  assert.deepEqual(pick(locatePointer(text, '/install/1/bogus')), [8, 7]);
  assert.deepEqual(pick(locatePointer(text, '/install/1/command/1')), [7, 27]);
});

test('the root and escaped keys (~1 for /, ~0 for ~, escaped quotes) are found', () => {
  assert.deepEqual(pick(locatePointer(text, '')), [1, 1]);
  assert.deepEqual(pick(locatePointer(text, '/a~1b/~0x')), [11, 12]);
  assert.deepEqual(pick(locatePointer(text, '/esc"aped')), [12, 3]);
  assert.deepEqual(parsePointer('/a~1b/~0x/0'), ['a/b', '~x', '0']);
});

test('a pointer deeper than the document lands on the deepest part that exists', () => {
  // A missing key inside install/0: the error belongs to that step.
  assert.deepEqual(pick(locatePointer(text, '/install/0/missing')), [4, 5]);
  assert.deepEqual(pick(locatePointer(text, '/install/7')), [3, 3]);
  assert.deepEqual(pick(locatePointer(text, '/nothing/here')), [1, 1]);
});

test('syntax problems are located at the offending character', () => {
  assert.equal(findSyntaxProblem(text), undefined);
  const missingComma = '{\n  "a": 1\n  "b": 2\n}';
  const p = findSyntaxProblem(missingComma);
  assert.ok(p);
  assert.deepEqual([p.line, p.column], [3, 3]);
  assert.match(p.message, /","/);
  const unterminated = '{\n  "a": "oops\n}';
  const q = findSyntaxProblem(unterminated);
  assert.ok(q);
  assert.equal(q.line, 2);
  assert.ok(findSyntaxProblem('{"a": 1} trailing'));
  assert.ok(findSyntaxProblem('{"a": 01}'));
  assert.ok(findSyntaxProblem(''));
  // The scanner agrees with JSON.parse on what is valid.
  for (const sample of ['[]', '{}', '"x"', '-1.5e3', 'true', '[1,[2,{"a":null}]]', '{"\\u00e9":"\\n"}']) {
    assert.equal(findSyntaxProblem(sample), undefined, sample);
    JSON.parse(sample);
  }
});

test('locating still works before a later syntax error', () => {
  const broken = '{\n  "id": "x",\n  "install": [ {"kind": "git" ]\n}';
  assert.deepEqual(pick(locatePointer(broken, '/id')), [2, 3]);
  assert.deepEqual(pick(locatePointer(broken, '/install/0/kind')), [3, 17]);
});

function pick(loc: { line: number; column: number } | undefined): [number, number] | undefined {
  return loc ? [loc.line, loc.column] : undefined;
}
