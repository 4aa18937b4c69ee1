// http.js: the WAXOS API calls the client makes, with errors a caller can tell apart.
//
// NetworkError: the API could not be reached at all (the client is `offline`). HttpError: it answered
// with an error status (`status`, `code`, and `retryAfterMs` from a Retry-After header).

export const DEFAULT_TIMEOUT_MS = 10000;

/** The API answered with an error status. */
export class HttpError extends Error {
  constructor(status, body, retryAfterMs) {
    super(`HTTP ${status}${body?.code ? ` ${body.code}` : ""}${body?.message ? `: ${body.message}` : ""}`);
    this.name = "HttpError";
    this.status = status;
    this.code = body?.code;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The API could not be reached (no network, refused, timed out, or blocked by the browser's CORS rules). */
export class NetworkError extends Error {
  constructor(cause) {
    super(`network error: ${cause?.message ?? cause}`);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** The bearer token: a string, or a function returning one (or a promise of one). */
export async function resolveToken(token) {
  return typeof token === "function" ? await token() : token;
}

function retryAfterMs(headers) {
  const value = headers?.get?.("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * One request to the API: `json` or `form` body (POST), else GET. Resolves to the parsed JSON body;
 * rejects with HttpError or NetworkError.
 */
export async function apiRequest({ baseUrl, path, token, json, form, fetchImpl, timeoutMs = DEFAULT_TIMEOUT_MS }) {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const headers = {};
  const bearer = await resolveToken(token);
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const init = { method: "GET", headers };
  if (json !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  }
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
  if (controller) init.signal = controller.signal;
  let response;
  try {
    response = await doFetch(new URL(path, baseUrl), init);
  } catch (error) {
    throw new NetworkError(error);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(response.status, body, retryAfterMs(response.headers));
  return body;
}
