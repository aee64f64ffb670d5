import { open, stat } from 'node:fs/promises';
import got from 'got';
import { OrchardError } from '../core/errors.js';

/**
 * Random access to the start of a model file, local or remote. Remote reads use HTTP Range, so
 * the header of a 200 GB model costs a few megabytes; a server that ignores Range is refused
 * rather than downloaded whole.
 */
export interface ByteSource {
  /** The file or URL, for messages. */
  readonly where: string;
  /** Total bytes, when known (local files; remote when Content-Range says). */
  size(): Promise<number | undefined>;
  /** Up to `length` bytes at `offset` (fewer at end of file). */
  read(offset: number, length: number): Promise<Buffer>;
}

export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

export function openByteSource(fileOrUrl: string, o: { headers?: Record<string, string>; timeoutMs?: number } = {}): ByteSource {
  return isUrl(fileOrUrl) ? new HttpByteSource(fileOrUrl, o.headers ?? {}, o.timeoutMs ?? 30_000) : new FileByteSource(fileOrUrl);
}

class FileByteSource implements ByteSource {
  constructor(readonly where: string) {}

  async size(): Promise<number | undefined> {
    try {
      return (await stat(this.where)).size;
    } catch (err) {
      throw new OrchardError('MODEL', `cannot read the model file: ${(err as Error).message}`, {
        where: this.where,
        hint: 'Check the path.',
      });
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const fh = await open(this.where, 'r').catch((err: Error) => {
      throw new OrchardError('MODEL', `cannot open the model file: ${err.message}`, {
        where: this.where,
        hint: 'Check the path and its permissions.',
      });
    });
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
}

class HttpByteSource implements ByteSource {
  private totalSize: number | undefined;

  constructor(
    readonly where: string,
    private readonly headers: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  async size(): Promise<number | undefined> {
    if (this.totalSize === undefined) await this.read(0, 1);
    return this.totalSize;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const stream = got.stream(this.where, {
      headers: { ...this.headers, range: `bytes=${offset}-${offset + length - 1}` },
      timeout: { request: this.timeoutMs },
      retry: { limit: 2 },
    });
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on('response', (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
          if (res.statusCode !== 206) {
            stream.destroy();
            reject(
              new OrchardError(
                'DOWNLOAD',
                `the server answered ${res.statusCode} to a Range request, so the header cannot be read without downloading the whole file`,
                {
                  where: this.where,
                  hint: 'Use a host that supports HTTP Range (Hugging Face does), or download the file and run fit on it.',
                },
              ),
            );
            return;
          }
          const total = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1];
          if (total) this.totalSize = Number(total);
        });
        stream.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received >= length) {
            stream.destroy();
            resolve();
          }
        });
        stream.on('end', () => resolve());
        stream.on('error', (err: Error & { response?: { statusCode?: number } }) => {
          const status = err.response?.statusCode;
          if (status === 416) return resolve(); // asked past the end: nothing more to read
          reject(
            err instanceof OrchardError
              ? err
              : new OrchardError(status === 401 || status === 403 ? 'AUTH' : 'DOWNLOAD', `cannot read the model header: ${err.message}`, {
                  where: this.where,
                  hint:
                    status === 401 || status === 403
                      ? 'The model is gated: accept its licence on its page and set HF_TOKEN.'
                      : 'Check the URL and the network.',
                }),
          );
        });
      });
    } finally {
      stream.destroy();
    }
    return Buffer.concat(chunks).subarray(0, length);
  }
}
