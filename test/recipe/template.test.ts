import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import { mapStrings, renderTemplate, templateRefs } from '../../engine/recipe/template.js';

const vars = new Map([
  ['app.dir', '/home/u/Orchard/apps/x/app'],
  ['inputs.quant', 'Q4_K_M'],
]);

test('substitutes known variables, with or without inner spaces', () => {
  assert.equal(renderTemplate('{{app.dir}}/m-{{ inputs.quant }}.gguf', vars, '/x'), '/home/u/Orchard/apps/x/app/m-Q4_K_M.gguf');
});

test('an unknown variable is an error naming it and where, never left as text', () => {
  assert.throws(
    () => renderTemplate('{{app.dri}}/x', vars, '/install/0/dest'),
    (err: unknown) =>
      isOrchardError(err) && err.code === 'TEMPLATE' && err.message.includes('{{app.dri}}') && err.where === '/install/0/dest',
  );
});

test('expressions are refused, not evaluated', () => {
  assert.throws(() => templateRefs('{{ process.exit(1) }}', '/p'), /not a template variable name/);
  assert.throws(() => templateRefs('{{input.event[0]}}', '/p'), /not a template variable name/);
});

test('unbalanced braces are refused', () => {
  assert.throws(() => templateRefs('{{app.dir', '/p'), /unbalanced/);
  assert.throws(() => templateRefs('x }} y', '/p'), /unbalanced/);
});

test('{{port}} outside a service explains where it is allowed', () => {
  assert.throws(
    () => renderTemplate('--port={{port}}', vars, '/install/1/command/2'),
    (err: unknown) => isOrchardError(err) && /only inside "service"/.test(err.hint ?? ''),
  );
});

test('mapStrings reaches every string of a JSON value with its pointer', () => {
  const seen: string[] = [];
  const out = mapStrings({ a: ['x', { 'b/c': 'y' }], n: 1 }, (s, p) => {
    seen.push(p);
    return s.toUpperCase();
  });
  assert.deepEqual(out, { a: ['X', { 'b/c': 'Y' }], n: 1 });
  assert.deepEqual(seen, ['/a/0', '/a/1/b~1c']);
});
