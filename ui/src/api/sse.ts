/**
 * The `data:` payload of each event of a server-sent event stream (multi-line data joined with
 * "\n"), as the events complete. Events end with a blank line; an unfinished tail waits for the
 * next chunk. Stopping the loop early cancels the stream.
 */
export async function* sseData(body: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const dataOf = (event: string): string =>
    event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const events = buffer.split(/\r?\n\r?\n/);
      buffer = events.pop() ?? '';
      for (const event of events) {
        const data = dataOf(event);
        if (data) yield data;
      }
    }
    const data = dataOf(buffer);
    if (data.trim()) yield data;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
