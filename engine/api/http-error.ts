// Its own file so that http-io.ts (which throws it) and http-errors.ts (which answers it) do not import each other.
/** An error the API answers with a given HTTP status (security refusals, bad routes). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly where?: string,
  ) {
    super(message);
  }
}
