/**
 * An error the gateway answers with an HTTP status. The OpenAI routes turn it into
 * `{error:{message,type,param,code}}`, the Ollama routes into `{error:"message"}`.
 */
export class GatewayError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly type: string;

  constructor(
    readonly status: number,
    message: string,
    o: { param?: string; code?: string; type?: string } = {},
  ) {
    super(message);
    this.param = o.param ?? null;
    this.code = o.code ?? null;
    this.type = o.type ?? (status === 404 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
  }

  openAiBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
