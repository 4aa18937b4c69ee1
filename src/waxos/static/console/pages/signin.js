// pages/signin.js: staff sign-in with the API's own login (POST /api/v1/auth/login).

import { html, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { api, remember } from "../session.js";
import { ErrorNote } from "../ui.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") ?? "";
  // Only a console page of this origin: an open redirect would let a link send a signed-in user anywhere.
  return /^\/console\/[a-z-]*(\?[^#]*)?$/.test(next) && !next.startsWith("/console/sign-in") ? next : "/console/live";
}

export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api("/api/v1/auth/login", { method: "POST", json: { email, password } });
      remember(answer.access_token, answer.expires_in);
      location.assign(nextPage());
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form class="signin-card" onSubmit=${submit} aria-labelledby="signin-title">
      <div class="brand">WAXOS <span>console</span></div>
      <h1 id="signin-title">Sign in</h1>
      <p class="muted">Use your staff account.</p>
      <label>Email
        <input type="email" name="email" autocomplete="username" required autofocus
               value=${email} onInput=${(e) => setEmail(e.target.value)} />
      </label>
      <label>Password
        <input type="password" name="password" autocomplete="current-password" required
               value=${password} onInput=${(e) => setPassword(e.target.value)} />
      </label>
      <${ErrorNote} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}
