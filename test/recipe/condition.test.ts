import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCondition, type ConditionFacts } from '../../engine/recipe/condition.js';
import type { Condition } from '../../engine/recipe/recipe.types.gen.js';

const mac: ConditionFacts = {
  platform: 'darwin-arm64',
  os: 'darwin',
  arch: 'arm64',
  accelerator: 'metal',
  inputs: { quant: 'Q4_K_M', big: true },
};
const cuda: ConditionFacts = {
  platform: 'linux-x64',
  os: 'linux',
  arch: 'x64',
  accelerator: 'cuda',
  inputs: { quant: 'Q3_K_M', big: false },
};

test('platform, os, arch and accelerator match one value or any of a list', () => {
  assert.equal(evaluateCondition({ platform: 'darwin-arm64' }, mac), true);
  assert.equal(evaluateCondition({ platform: 'darwin-arm64' }, cuda), false);
  assert.equal(evaluateCondition({ accelerator: ['cuda', 'rocm'] }, cuda), true);
  assert.equal(evaluateCondition({ os: 'linux', arch: 'arm64' }, cuda), false);
});

test('inputs compare as text, so numbers and booleans work too', () => {
  assert.equal(evaluateCondition({ input: { quant: ['Q4_K_M', 'Q8_0'] } }, mac), true);
  assert.equal(evaluateCondition({ input: { big: true } }, mac), true);
  assert.equal(evaluateCondition({ input: { big: true } }, cuda), false);
});

test('all, any and not compose', () => {
  const cond: Condition = { any: [{ platform: 'darwin-arm64' }, { all: [{ os: 'linux' }, { not: { accelerator: 'cpu' } }] }] };
  assert.equal(evaluateCondition(cond, mac), true);
  assert.equal(evaluateCondition(cond, cuda), true);
  assert.equal(evaluateCondition(cond, { ...cuda, accelerator: 'cpu' }), false);
});
