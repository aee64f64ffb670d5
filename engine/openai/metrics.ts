/** Counters for /metrics: requests, tokens, tokens/s and time to first token. */
export class ServiceMetrics {
  private readonly started = Date.now();
  requests = 0;
  errors = 0;
  cancelled = 0;
  promptTokens = 0;
  completionTokens = 0;
  private generationMs = 0;
  private ttftSumMs = 0;
  private ttftCount = 0;
  last: { tokensPerSecond: number; ttftMs: number; completionTokens: number } | undefined;
  readonly byEndpoint: Record<string, number> = {};

  request(endpoint: string): void {
    this.requests++;
    this.byEndpoint[endpoint] = (this.byEndpoint[endpoint] ?? 0) + 1;
  }

  generation(o: { promptTokens: number; completionTokens: number; ttftMs: number | undefined; decodeMs: number }): void {
    this.promptTokens += o.promptTokens;
    this.completionTokens += o.completionTokens;
    this.generationMs += o.decodeMs;
    if (o.ttftMs !== undefined) {
      this.ttftSumMs += o.ttftMs;
      this.ttftCount++;
    }
    const tps = o.decodeMs > 0 && o.completionTokens > 1 ? ((o.completionTokens - 1) * 1000) / o.decodeMs : 0;
    this.last = { tokensPerSecond: round(tps), ttftMs: round(o.ttftMs ?? 0), completionTokens: o.completionTokens };
  }

  snapshot(extra: { active: number; queueDepth: number; parallel: number }): Record<string, unknown> {
    return {
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      requests: { total: this.requests, errors: this.errors, cancelled: this.cancelled, byEndpoint: this.byEndpoint },
      active: extra.active,
      queueDepth: extra.queueDepth,
      parallel: extra.parallel,
      tokens: { prompt: this.promptTokens, completion: this.completionTokens },
      tokensPerSecond: {
        average: round(this.generationMs > 0 ? (this.completionTokens * 1000) / this.generationMs : 0),
        last: this.last?.tokensPerSecond ?? null,
      },
      ttftMs: { average: this.ttftCount > 0 ? round(this.ttftSumMs / this.ttftCount) : null, last: this.last?.ttftMs ?? null },
      memory: { rssBytes: process.memoryUsage().rss },
    };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
