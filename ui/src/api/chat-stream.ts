import { API, authHeaders, readJson } from './client.js';
import { sseData } from './sse.js';

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
  for await (const data of sseData(response.body)) {
    if (handleData(data, onDelta) === 'done') return;
  }
}

/** One OpenAI stream chunk: a token delta, an error, or the final [DONE]. */
function handleData(data: string, onDelta: (text: string) => void): 'done' | 'more' {
  if (data.trim() === '[DONE]') return 'done';
  let chunk: { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
  try {
    chunk = JSON.parse(data) as typeof chunk;
  } catch {
    return 'more';
  }
  if (chunk.error?.message) throw new Error(chunk.error.message);
  const text = chunk.choices?.[0]?.delta?.content;
  if (text) onDelta(text);
  return 'more';
}
