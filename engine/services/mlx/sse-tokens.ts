/**
 * Tokens and timing of a streamed mlx_lm.server reply, read from the stream as it passes. Its
 * handle_completion() writes one `data:` event per generated token that carries text (reasoning,
 * content or text), `: keepalive i/n` comments during a long prompt, a last event with the
 * finish_reason, the usage event when stream_options.include_usage was asked, then `data: [DONE]`.
 * The usage, when present, wins over the count.
 */
export class SseTokenCounter {
  private rest = '';
  private tokens = 0;
  private firstAt: number | undefined;
  private lastAt: number | undefined;
  private usage: { prompt: number; completion: number } | undefined;

  constructor(private readonly startedAt: number) {}

  push(text: string): void {
    const parts = (this.rest + text).split('\n\n');
    this.rest = parts.pop() ?? '';
    for (const event of parts) this.event(event);
  }

  result(): { promptTokens: number; completionTokens: number; ttftMs: number | undefined; decodeMs: number } | undefined {
    if (this.rest) this.event(this.rest);
    this.rest = '';
    const completion = this.usage?.completion ?? this.tokens;
    if (completion === 0 || this.firstAt === undefined) return undefined;
    return {
      promptTokens: this.usage?.prompt ?? 0,
      completionTokens: completion,
      ttftMs: this.firstAt - this.startedAt,
      decodeMs: Math.max(0, (this.lastAt ?? this.firstAt) - this.firstAt),
    };
  }

  private event(raw: string): void {
    const data = raw
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data || data === '[DONE]') return;
    let packet: {
      choices?: { delta?: { content?: unknown; reasoning?: unknown }; text?: unknown }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
    };
    try {
      packet = JSON.parse(data) as typeof packet;
    } catch {
      return;
    }
    const u = packet.usage;
    if (u && typeof u.completion_tokens === 'number')
      this.usage = { prompt: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0, completion: u.completion_tokens };
    const choice = packet.choices?.[0];
    const text = choice?.delta?.content ?? choice?.delta?.reasoning ?? choice?.text;
    if (typeof text === 'string' && text !== '') {
      const now = Date.now();
      this.firstAt ??= now;
      this.lastAt = now;
      this.tokens++;
    }
  }
}
