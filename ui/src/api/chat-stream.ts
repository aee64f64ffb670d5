import { API, authHeaders, readJson } from './client.js';

/**
 * Stream an OpenAI-style chat completion through the API's service proxy
 * (/api/v1/apps/:id/service/v1/chat/completions, SSE passed through), calling onDelta per token.
 */
export async function streamChat(
  appId: string,
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[],
  onDelta: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(`${API}/apps/${encodeURIComponent(appId)}/service/v1/chat/completions`, {
    method: 'POST',
    headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
    body: JSON.stringify({ messages, stream: true, max_tokens: 128 }),
    signal,
  });
  if (!response.ok || !response.body) {
    await readJson(response);
    throw new Error(`the service answered HTTP ${response.status} without a body`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // SSE events end with a blank line; keep the unfinished tail for the next chunk.
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop() ?? '';
    for (const event of events) {
      if (handleEvent(event, onDelta) === 'done') return;
    }
  }
  if (buffer.trim()) handleEvent(buffer, onDelta);
}

function handleEvent(event: string, onDelta: (text: string) => void): 'done' | 'more' {
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return 'done';
    try {
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
      if (chunk.error?.message) throw new Error(chunk.error.message);
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) onDelta(text);
    } catch (err) {
      if (err instanceof SyntaxError) continue;
      throw err;
    }
  }
  return 'more';
}
