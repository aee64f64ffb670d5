import { EventSourceParserStream } from 'eventsource-parser/stream';

/**
 * The `data:` payload of each event of a server-sent event stream, as the events complete
 * (eventsource-parser: the spec's line endings, multi-line data, comments and retry fields).
 * Stopping the loop early cancels the stream.
 */
export async function* sseData(body: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.data) yield value.data;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
