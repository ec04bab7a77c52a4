/**
 * Whether a `Content-Type` header names JSON: `application/json`, in any case, with any parameters
 * (`; charset=utf-8`). The JSON parser installed by `configureAiWebApp` reads exactly the bodies this
 * accepts, and the library's routes refuse a body of any other type, so no body can be left unread and
 * taken for "no body".
 */
export function isJsonContentType(header: string | string[] | undefined): boolean {
  return typeof header === 'string' && header.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

/**
 * Whether a request carries a body: a `Transfer-Encoding` (a chunked body of unknown length) or a
 * `Content-Length` above 0. A POST without a body (curl `-X POST` without `-d`) has neither or
 * `Content-Length: 0`.
 */
export function hasRequestBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length']);
  return Number.isFinite(length) && length > 0;
}
