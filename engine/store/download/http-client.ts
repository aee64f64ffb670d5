import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import got from 'got';
import { TransientError, UnknownHostError } from './download-errors.js';
import { displayUrl, isHubHost } from '../../core/hub-auth.js';

/**
 * One HTTP GET as the downloader needs it: redirects not followed (the caller decides where the
 * token may go), no automatic retries (the caller resumes at the right byte), no decompression
 * (bytes must be the file's bytes), and a stream that never buffers the body.
 */
export interface OpenedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** Stop reading and release the connection. */
  close(reason?: Error): void;
}

export interface RequestAuth {
  token?: string | undefined;
  hubHosts: readonly string[];
}

export const USER_AGENT = 'orchard/0.1 (+https://github.com/orchard)';

/** Headers for a request to `url`: the token only over https, and only when the host is a hub host. */
export function requestHeaders(url: string, auth: RequestAuth, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity', ...extra };
  const target = new URL(url);
  if (auth.token && target.protocol === 'https:' && isHubHost(target, auth.hubHosts)) headers['authorization'] = `Bearer ${auth.token}`;
  return headers;
}

export function openUrl(
  url: string,
  headers: Record<string, string>,
  o: { signal?: AbortSignal; connectTimeoutMs?: number; responseTimeoutMs?: number } = {},
): Promise<OpenedResponse> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted'));
      return;
    }
    const stream = got.stream(url, {
      headers,
      followRedirect: false,
      throwHttpErrors: false,
      decompress: false,
      retry: { limit: 0 },
      timeout: { connect: o.connectTimeoutMs ?? 20_000, response: o.responseTimeoutMs ?? 60_000 },
    });
    const onAbort = () => stream.destroy(o.signal?.reason instanceof Error ? o.signal.reason : new Error('aborted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => o.signal?.removeEventListener('abort', onAbort);
    stream.once('close', cleanup);
    stream.once('error', (err: Error) => {
      cleanup();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND') reject(new UnknownHostError(`the host ${new URL(url).hostname} does not exist (DNS: ENOTFOUND)`));
      else reject(new TransientError(`${networkMessage(err)} (${displayUrl(url)})`, undefined, code));
    });
    stream.once('response', (response: { statusCode: number; headers: IncomingHttpHeaders }) => {
      // Errors after the response are reported by the body iterator instead.
      stream.removeAllListeners('error');
      stream.on('error', () => undefined);
      resolve({
        status: response.statusCode,
        headers: response.headers,
        body: stream,
        close: (reason?: Error) => {
          if (!stream.destroyed) stream.destroy(reason);
        },
      });
    });
  });
}

/** What a network failure was, in words (got's messages name the code, never the headers). */
export function networkMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

export function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v[0];
  return typeof v === 'string' ? v : undefined;
}
