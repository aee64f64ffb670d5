import type { IncomingMessage, ServerResponse } from 'node:http';
import { LlamaChat, LlamaCompletion, type ChatHistoryItem, type LlamaContextSequence, type LlamaGrammar, type Token } from 'node-llama-cpp';
import { ApiError, badRequest, sendJson } from '../../openai/api-error.js';
import type { ServiceState } from './service-state.js';
import { asBody, responseFormat, samplingParams, type Body, type SamplingParams } from './request-params.js';
import { SseWriter } from './sse-writer.js';

type FinishReason = 'stop' | 'length';

interface Outcome {
  text: string;
  finish: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

/** What a run returns; the prompt is tokenized for the usage count only after generation, off the TTFT path. */
interface RunResult {
  text: string;
  finish: FinishReason;
  promptTokens: () => number;
}

/** What differs between /v1/chat/completions and /v1/completions. */
interface Flavour {
  object: 'chat.completion' | 'text_completion';
  idPrefix: string;
  /** Runs the model on a borrowed sequence, calling onText for each piece of text. */
  run(
    seq: LlamaContextSequence,
    p: SamplingParams,
    grammar: LlamaGrammar | undefined,
    signal: AbortSignal,
    onText: (t: string) => void,
    onTokens: (n: number) => void,
  ): Promise<RunResult>;
  chunk(text: string | undefined, finish: FinishReason | null, first: boolean): unknown;
  final(o: Outcome): unknown;
}

export async function handleChat(state: ServiceState, req: IncomingMessage, res: ServerResponse, raw: unknown): Promise<void> {
  const body = asBody(raw);
  const history = chatHistory(body);
  await generate(state, res, body, {
    object: 'chat.completion',
    idPrefix: 'chatcmpl',
    async run(seq, p, grammar, signal, onText, onTokens) {
      const chat = new LlamaChat({ contextSequence: seq, autoDisposeSequence: false });
      try {
        const r = await chat.generateResponse(history, {
          ...options(p, grammar, signal),
          onTextChunk: onText,
          onToken: (t: Token[]) => onTokens(t.length),
        });
        const wrapper = chat.chatWrapper; // called after chat.dispose() below
        const promptTokens = () =>
          wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(state.llm.model.tokenizer).length;
        return { text: r.response, finish: r.metadata.stopReason === 'maxTokens' ? 'length' : 'stop', promptTokens };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    },
    chunk: (text, finish, first) => ({
      index: 0,
      delta: text === undefined ? {} : first ? { role: 'assistant', content: text } : { content: text },
      logprobs: null,
      finish_reason: finish,
    }),
    final: (o) => ({ index: 0, message: { role: 'assistant', content: o.text, refusal: null }, logprobs: null, finish_reason: o.finish }),
  });
  void req;
}

export async function handleCompletion(state: ServiceState, req: IncomingMessage, res: ServerResponse, raw: unknown): Promise<void> {
  const body = asBody(raw);
  const prompt = body['prompt'];
  if (typeof prompt !== 'string' && !(Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string')) {
    throw badRequest("'prompt' must be a string (or an array of one string).", 'prompt');
  }
  const text = typeof prompt === 'string' ? prompt : (prompt[0] as string);
  await generate(state, res, body, {
    object: 'text_completion',
    idPrefix: 'cmpl',
    async run(seq, p, grammar, signal, onText, onTokens) {
      const completion = new LlamaCompletion({ contextSequence: seq });
      try {
        const r = await completion.generateCompletionWithMeta(text, {
          ...options(p, grammar, signal),
          onTextChunk: onText,
          onToken: (t: Token[]) => onTokens(t.length),
        });
        const promptTokens = () => state.llm.model.tokenize(text).length;
        return { text: r.response, finish: r.metadata.stopReason === 'maxTokens' ? 'length' : 'stop', promptTokens };
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    },
    chunk: (t, finish) => ({ index: 0, text: t ?? '', logprobs: null, finish_reason: finish }),
    final: (o) => ({ index: 0, text: o.text, logprobs: null, finish_reason: o.finish }),
  });
  void req;
}

function options(p: SamplingParams, grammar: LlamaGrammar | undefined, signal: AbortSignal) {
  return {
    ...(p.maxTokens !== undefined ? { maxTokens: p.maxTokens } : {}),
    temperature: p.temperature,
    ...(p.topP !== undefined ? { topP: p.topP } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.stop.length > 0 ? { customStopTriggers: p.stop } : {}),
    ...(grammar ? { grammar } : {}),
    signal,
    stopOnAbortSignal: true,
  };
}

function chatHistory(body: Body): ChatHistoryItem[] {
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw badRequest("'messages' must be a non-empty array.", 'messages');
  const history: ChatHistoryItem[] = messages.map((m: unknown, i): ChatHistoryItem => {
    const msg = m as { role?: unknown; content?: unknown };
    const text = contentText(msg.content, `messages[${i}].content`);
    switch (msg.role) {
      case 'system':
      case 'developer':
        return { type: 'system', text };
      case 'user':
        return { type: 'user', text };
      case 'assistant':
        return { type: 'model', response: [text] };
      default:
        throw badRequest(
          `messages[${i}].role must be system, developer, user or assistant; got ${JSON.stringify(msg.role)}.`,
          `messages[${i}].role`,
        );
    }
  });
  history.push({ type: 'model', response: [] });
  return history;
}

function contentText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (
    Array.isArray(content) &&
    content.every(
      (p) =>
        typeof p === 'object' &&
        p !== null &&
        (p as { type?: unknown }).type === 'text' &&
        typeof (p as { text?: unknown }).text === 'string',
    )
  ) {
    return content.map((p) => (p as { text: string }).text).join('');
  }
  throw badRequest(`'${param}' must be a string or an array of text parts.`, param);
}

async function generate(state: ServiceState, res: ServerResponse, body: Body, f: Flavour): Promise<void> {
  const p = samplingParams(body);
  const format = responseFormat(body);
  let grammar: LlamaGrammar | undefined;
  try {
    if (format.kind === 'json_schema') grammar = await state.llm.llama.createGrammarForJsonSchema(format.schema as never);
    else if (format.kind === 'json_object') grammar = await state.llm.llama.getGrammarFor('json');
  } catch (err) {
    throw badRequest(`the JSON schema cannot be turned into a grammar: ${(err as Error).message}`, 'response_format.json_schema.schema');
  }

  const started = performance.now();
  const id = `${f.idPrefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });

  const seq = await state.pool.acquire(abort.signal);
  let firstTokenAt: number | undefined;
  let completionTokens = 0;
  let sentFirst = false;
  const envelope = (choices: unknown[], extra: object = {}) => ({
    id,
    object: f.object === 'chat.completion' ? 'chat.completion.chunk' : 'text_completion',
    created,
    model: state.modelId,
    system_fingerprint: state.fingerprint,
    choices,
    ...extra,
  });
  const sse = p.stream ? new SseWriter(res) : undefined;
  // A token's event differs from the next only in its text: serialise the envelope once, with a
  // marker where the text goes, and per token stringify just the text (same bytes as before).
  const textEvent = sse ? eventTemplate(envelope([f.chunk(TEXT_MARK, null, false)])) : undefined;
  if (p.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
  }
  try {
    const outcome = await f.run(
      seq,
      p,
      grammar,
      abort.signal,
      (text) => {
        firstTokenAt ??= performance.now();
        if (sse && text.length > 0) {
          sse.event(sentFirst ? textEvent!(text) : JSON.stringify(envelope([f.chunk(text, null, true)])));
          sentFirst = true;
        }
      },
      (n) => {
        firstTokenAt ??= performance.now();
        completionTokens += n;
      },
    );
    const done = performance.now();
    const promptTokens = outcome.promptTokens();
    state.metrics.generation({
      promptTokens,
      completionTokens,
      ttftMs: firstTokenAt === undefined ? undefined : firstTokenAt - started,
      decodeMs: firstTokenAt === undefined ? 0 : done - firstTokenAt,
    });
    if (abort.signal.aborted) {
      state.metrics.cancelled++;
      return;
    }
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    if (sse) {
      const last: unknown[] = [];
      if (!sentFirst && f.object === 'chat.completion') last.push(envelope([f.chunk('', null, true)]));
      last.push(envelope([f.chunk(undefined, outcome.finish, false)]));
      if (p.includeUsage) last.push(envelope([], { usage }));
      sse.end([...last.map((v) => JSON.stringify(v)), '[DONE]']);
    } else {
      sendJson(res, 200, {
        id,
        object: f.object,
        created,
        model: state.modelId,
        system_fingerprint: state.fingerprint,
        choices: [f.final({ text: outcome.text, finish: outcome.finish, promptTokens, completionTokens })],
        usage,
      });
    }
  } catch (err) {
    if (abort.signal.aborted) {
      state.metrics.cancelled++;
      return;
    }
    sse?.flush(); // what was generated goes out before the error event
    throw err instanceof ApiError ? err : new ApiError(500, `generation failed: ${(err as Error).message}`, 'server_error');
  } finally {
    state.pool.release(seq);
  }
}

/** Stands in for a token's text while an event is serialised once; JSON.stringify leaves it as is. */
const TEXT_MARK = 'orchard-text-5b0e1c';

/** The serialised event with the marker cut out: text → the event's JSON, byte for byte as JSON.stringify would give it. */
function eventTemplate(value: unknown): (text: string) => string {
  const json = JSON.stringify(value);
  const mark = JSON.stringify(TEXT_MARK);
  const at = json.indexOf(mark);
  if (at < 0 || json.indexOf(mark, at + 1) >= 0) throw new Error('event template: the text marker must occur exactly once');
  const before = json.slice(0, at);
  const after = json.slice(at + mark.length);
  return (text) => before + JSON.stringify(text) + after;
}
