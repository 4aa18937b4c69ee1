// ui.js: small pieces every page uses — problem panels, API error notes, cards, empty states, formats.
// Everything here renders text through Preact, which sets textContent: nothing is ever parsed as HTML.

import { html } from "/static/vendor/htm-preact-standalone.module.js";

const STATUS_TITLES = { 403: "Not allowed", 404: "Not found", 503: "Unavailable" };

/** A whole-page problem: the HTTP status and what it means here. */
export function Problem({ status, message }) {
  return html`<section class="problem" role="alert">
    <div class="problem-status">${status ?? "Error"}</div>
    <div>
      <h2>${STATUS_TITLES[status] ?? "Something went wrong"}</h2>
      <p>${message}</p>
    </div>
  </section>`;
}

/** An API error under a form: its message, machine code and each field's problem. */
export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<div class="error-note" role="alert">
    <strong>${error.status ? `${error.status} ` : ""}${error.code ?? "error"}</strong>: ${error.message}
    ${error.problems?.length
      ? html`<ul>${error.problems.map((p) => html`<li key=${p.field}><code>${p.field}</code> ${p.problem}</li>`)}</ul>`
      : null}
  </div>`;
}

export function Card({ title, children, wide, footer }) {
  return html`<section class=${`card${wide ? " wide" : ""}`}>
    ${title ? html`<h2>${title}</h2>` : null}
    ${children}
    ${footer ? html`<div class="card-footer">${footer}</div>` : null}
  </section>`;
}

export function Stat({ label, value, hint, tone }) {
  return html`<div class=${`stat${tone ? ` tone-${tone}` : ""}`}>
    <div class="stat-label">${label}</div>
    <div class="stat-value">${value}</div>
    ${hint ? html`<div class="stat-hint">${hint}</div>` : null}
  </div>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}

const numbers = new Intl.NumberFormat("en");
export const count = (n) => numbers.format(n ?? 0);

export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.toLocaleTimeString("en-GB", { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** "12 s", "4 min", "3 h": how long `seconds` is, for ages and latencies. */
export function duration(seconds) {
  if (seconds == null) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export function percent(part, whole) {
  return whole ? Math.round((100 * part) / whole) : 0;
}

/** The workspace channels a member may follow, and their own user channel. */
export function channelsFor(me) {
  const channels = [];
  for (const w of me.workspaces) {
    channels.push(
      { name: `private-workspace-${w.id}.chats`, label: `${w.name} · chats` },
      { name: `private-workspace-${w.id}.notifications`, label: `${w.name} · notifications` },
      { name: `presence-workspace-${w.id}`, label: `${w.name} · presence` },
    );
  }
  channels.push({ name: `private-user-${me.id}`, label: "My user channel" });
  return channels;
}
