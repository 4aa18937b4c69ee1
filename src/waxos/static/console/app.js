// app.js: the console's shell — sign-in gate, navigation, the connection badge — and its router.
// Every page is a module under pages/; the shell gives it the signed-in user and the shared connection.

import { html, render, useEffect, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { Connection } from "./connection.js";
import { navigate } from "./nav.js";
import { Inbox } from "./pages/inbox.js";
import { Live } from "./pages/live.js";
import { Presence } from "./pages/presence.js";
import { Publish } from "./pages/publish.js";
import { Relay } from "./pages/relay.js";
import { SignIn } from "./pages/signin.js";
import { Usage } from "./pages/usage.js";
import { SIGN_IN_PATH, api, forget, toSignIn, token } from "./session.js";
import { Problem } from "./ui.js";

const isAdmin = (me) => me.workspaces.some((w) => w.role === "admin");
const isOperator = (me) => Boolean(me.is_operator);

// `may` decides whether the page is offered; the API decides again (403) whatever the page shows.
const PAGES = [
  { path: "live", title: "Live", page: Live, may: () => true },
  { path: "inbox", title: "Inbox", page: Inbox, may: () => true },
  { path: "presence", title: "Presence", page: Presence, may: () => true },
  { path: "publish", title: "Publish", page: Publish, may: isAdmin, refusal: "workspace admins" },
  { path: "usage", title: "Usage", page: Usage, may: (me) => isOperator(me) || isAdmin(me), refusal: "operators and workspace admins" },
  { path: "relay", title: "Relay", page: Relay, may: isOperator, refusal: "platform operators" },
];
const STATE_TEXT = { connecting: "Connecting", live: "Live", polling: "Polling", offline: "Offline" };

function currentPath() {
  return location.pathname.replace(/^\/console\/?/, "").split("/")[0] || "live";
}

function ConnectionBadge({ connection }) {
  const [state, setState] = useState(connection.state);
  useEffect(() => connection.onState(setState), [connection]);
  return html`<span class="badge state-${state}" role="status" aria-live="polite" title="Real-time delivery">
    <span class="dot" aria-hidden="true"></span>${STATE_TEXT[state] ?? state}
  </span>`;
}

function Shell({ me, connection }) {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);
  // Being in each workspace's presence channel is what makes this user "online" to their team.
  useEffect(() => {
    const stops = me.workspaces.map((w) => connection.listen(`presence-workspace-${w.id}`, {}));
    return () => stops.forEach((stop) => stop());
  }, []);
  const page = PAGES.find((p) => p.path === path);
  useEffect(() => {
    document.title = `${page?.title ?? "Not found"} · WAXOS console`;
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [path]);
  const signOut = () => {
    connection.close();
    forget();
    location.assign(SIGN_IN_PATH);
  };
  let body;
  if (!page) body = html`<${Problem} status=${404} message="There is no such console page." />`;
  else if (!page.may(me)) body = html`<${Problem} status=${403} message=${`This page is for ${page.refusal} only.`} />`;
  else body = html`<${page.page} me=${me} connection=${connection} />`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <div class="layout">
      <aside class="sidebar">
        <div class="brand">WAXOS <span>console</span></div>
        <nav aria-label="Console pages">
          <ul>
            ${PAGES.filter((p) => p.may(me)).map(
              (p) => html`<li key=${p.path}>
                <a href=${`/console/${p.path}`} aria-current=${p.path === path ? "page" : undefined}
                   onClick=${(e) => navigate(e, `/console/${p.path}`)}>${p.title}</a>
              </li>`,
            )}
          </ul>
        </nav>
        <div class="who">
          <div class="who-name">${me.name}</div>
          <div class="who-mail">${me.email}</div>
          ${isOperator(me) ? html`<div class="tag">operator</div>` : null}
          <button type="button" class="link" onClick=${signOut}>Sign out</button>
        </div>
      </aside>
      <div class="content">
        <header class="topbar">
          <h1>${page?.title ?? "Not found"}</h1>
          <${ConnectionBadge} connection=${connection} />
        </header>
        <main id="main" tabindex="-1">${body}</main>
      </div>
    </div>`;
}

async function boot() {
  const root = document.getElementById("app");
  if (location.pathname.startsWith(SIGN_IN_PATH)) {
    render(html`<${SignIn} />`, root);
    return;
  }
  if (!token()) {
    toSignIn();
    return;
  }
  let me;
  try {
    me = await api("/api/v1/me");
  } catch (error) {
    if (error.status === 401) return; // api() is already on its way to sign-in
    render(html`<${Problem} status=${error.status} message=${error.message} />`, root);
    return;
  }
  root.replaceChildren();
  const connection = new Connection(() => token());
  render(html`<${Shell} me=${me} connection=${connection} />`, root);
}

boot();
