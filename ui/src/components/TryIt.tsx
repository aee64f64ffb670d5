import { useRef, useState, type FormEvent } from 'react';
import { streamChat } from '../api/chat-stream.js';
import { ErrorBox } from './ErrorBox.js';

interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** A small chat against the running LLM service, streamed token by token through the API proxy. */
export function TryIt({ appId }: { appId: string }) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [prompt, setPrompt] = useState('Say hello in five words.');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const abort = useRef<AbortController>(undefined);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const text = prompt.trim();
    if (!text || busy) return;
    const history: Turn[] = [...turns, { role: 'user', content: text }];
    setTurns([...history, { role: 'assistant', content: '' }]);
    setPrompt('');
    setBusy(true);
    setError(undefined);
    const controller = new AbortController();
    abort.current = controller;
    try {
      await streamChat(
        appId,
        history,
        (delta) =>
          setTurns((current) => {
            const last = current.at(-1);
            return last ? [...current.slice(0, -1), { ...last, content: last.content + delta }] : current;
          }),
        controller.signal,
      );
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card try-it" aria-labelledby="try-it-title">
      <h2 id="try-it-title">Try it</h2>
      <div className="chat" aria-live="polite">
        {turns.length === 0 && <p className="muted">Ask the model something; the reply streams in as it is generated.</p>}
        {turns.map((turn, i) => (
          <div key={i} className={`turn ${turn.role}`} data-role={turn.role}>
            <span className="who">{turn.role === 'user' ? 'You' : 'Model'}</span>
            <p>{turn.content || (busy && i === turns.length - 1 ? '…' : '')}</p>
          </div>
        ))}
      </div>
      <ErrorBox error={error} />
      <form onSubmit={(e) => void send(e)} className="chat-form">
        <label htmlFor="try-it-prompt" className="visually-hidden">
          Message
        </label>
        <input id="try-it-prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="Message the model" />
        {busy ? (
          <button type="button" className="secondary" onClick={() => abort.current?.abort()}>
            Stop reply
          </button>
        ) : (
          <button type="submit" className="primary" disabled={!prompt.trim()}>
            Send
          </button>
        )}
      </form>
    </section>
  );
}
