import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseTokenCounter } from '../../engine/services/mlx/sse-tokens.js';

// mlx_lm/server.py (v0.31.3) handle_completion(): `: keepalive i/n` comments while the prompt is
// processed, one `data:` event per token with text, the finish event, the usage event when asked, [DONE].
const chunk = (content: string | undefined, finish: string | null = null) => {
  const delta = content === undefined ? { role: 'assistant' } : { role: 'assistant', content };
  const event = {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'default_model',
    created: 1,
    choices: [{ index: 0, finish_reason: finish, delta }],
  };
  return `data: ${JSON.stringify(event)}\n\n`;
};

test('counts token events across arbitrary chunk boundaries; keepalives and the finish event are not tokens', () => {
  const c = new SseTokenCounter(Date.now() - 50);
  const stream =
    `: keepalive 2048/4096\n\n: keepalive 4096/4096\n\n${chunk('Hello')}${chunk(',')}${chunk(' world')}` +
    `${chunk(undefined, 'stop')}data: [DONE]\n\n`;
  for (let i = 0; i < stream.length; i += 7) c.push(stream.slice(i, i + 7));
  const r = c.result();
  assert.equal(r?.completionTokens, 3);
  assert.ok((r?.ttftMs ?? -1) >= 50);
});

test('the usage event (stream_options.include_usage) wins over the count', () => {
  const c = new SseTokenCounter(Date.now());
  const usage = { object: 'chat.completion', choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } };
  c.push(`${chunk('a')}${chunk('b')}data: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`);
  assert.deepEqual([c.result()?.promptTokens, c.result()?.completionTokens], [9, 5]);
});

test('no text, no measurement', () => {
  const c = new SseTokenCounter(Date.now());
  c.push(`${chunk(undefined, 'stop')}data: [DONE]\n\n`);
  assert.equal(c.result(), undefined);
});
