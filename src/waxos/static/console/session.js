// session.js: the signed-in user's access token, kept for this tab only (sessionStorage), and the API
// calls that carry it. A 401 ends the session and sends the user to sign-in, back to where they were.

const TOKEN_KEY = "waxos.console.token";
const EXPIRES_KEY = "waxos.console.expires";

export const SIGN_IN_PATH = "/console/sign-in";

/** The stored token, or null when there is none or it has expired. */
export function token() {
  const value = sessionStorage.getItem(TOKEN_KEY);
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY) ?? 0);
  if (!value || Date.now() >= expires) return null;
  return value;
}

export function remember(accessToken, expiresInSeconds) {
  sessionStorage.setItem(TOKEN_KEY, accessToken);
  // A little early, so a request is never sent with a token about to expire in flight.
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + (expiresInSeconds - 30) * 1000));
}

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

/** Go to sign-in, coming back to the current page afterwards. */
export function toSignIn() {
  const here = location.pathname + location.search;
  const next = here.startsWith(SIGN_IN_PATH) ? "" : `?next=${encodeURIComponent(here)}`;
  location.replace(SIGN_IN_PATH + next);
}

/** An error answer of the API: its status, machine code, message and any field problems. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.problems = body?.problems ?? [];
    this.body = body;
  }
}

/** Call the API with the session's token; JSON in and out. A 401 ends the session. */
export async function api(path, { method = "GET", json, signal } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    signal,
  });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && bearer) {
    forget();
    toSignIn();
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}
