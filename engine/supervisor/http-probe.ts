/** One GET to http://127.0.0.1:<port><path>; true on a 2xx answer within `timeoutMs`. */
export async function probeHttp(port: number, urlPath: string, timeoutMs = 1000): Promise<boolean> {
  const pathPart = urlPath.startsWith('/') ? urlPath : `/${urlPath}`;
  try {
    const response = await fetch(`http://127.0.0.1:${port}${pathPart}`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300;
  } catch {
    return false;
  }
}
