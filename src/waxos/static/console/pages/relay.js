// pages/relay.js: the relay for platform operators — backlog, oldest undelivered event, each relay
// process's breaker per provider, failures by kind, and the latest events with their delivery latency.

import { html } from "/static/vendor/htm-preact-standalone.module.js";
import { usePolled } from "../poll.js";
import { Card, Empty, Problem, Stat, count, dateTime, duration, time } from "../ui.js";

const BREAKER = {
  closed: ["ok", "Closed — publishing"],
  open: ["bad", "Open — waiting after failures"],
  half_open: ["warn", "Half-open — probing"],
};

function ageTone(seconds) {
  if (seconds == null || seconds < 10) return "ok";
  return seconds < 60 ? "warn" : "bad";
}

export function Relay() {
  const { data, error, at } = usePolled("/api/v1/ops/relay", 3000);
  if (error && !data) return html`<${Problem} status=${error.status} message=${error.message} />`;
  if (!data) return html`<p class="muted">Reading the relay's state…</p>`;
  const failures = Object.entries(data.failures_by_kind);
  const live = data.relays.filter((r) => !r.silent);
  return html`
    <div class="stats">
      <${Stat} label="Backlog" value=${count(data.backlog)} hint="events not yet delivered"
               tone=${data.backlog ? "warn" : "ok"} />
      <${Stat} label="Oldest undelivered" value=${duration(data.oldest_undelivered_seconds)}
               hint=${data.oldest_undelivered_seconds == null ? "nothing waiting" : "since it was logged"}
               tone=${ageTone(data.oldest_undelivered_seconds)} />
      <${Stat} label="Relays reporting" value=${count(live.length)}
               hint=${data.relays.length > live.length ? `${data.relays.length - live.length} silent` : "all reporting"}
               tone=${live.length ? "ok" : "bad"} />
      <${Stat} label="Failed requests" value=${count(failures.reduce((n, [, c]) => n + c, 0))}
               hint="since the relays started" tone=${failures.length ? "warn" : "ok"} />
    </div>
    <div class="grid">
      <${Card} title="Relay processes and circuit state" wide footer=${`Refreshed every 3 s · last at ${at ? at.toLocaleTimeString("en-GB") : "—"}`}>
        ${data.relays.length
          ? html`<table>
              <thead><tr><th>Relay</th><th>Provider</th><th>Circuit</th><th class="num">Delivered</th>
                <th class="num">Rejected</th><th>Failures</th><th>Last report</th></tr></thead>
              <tbody>${data.relays.map((r) => {
                const [tone, label] = BREAKER[r.breaker] ?? ["", r.breaker];
                return html`<tr key=${r.owner}>
                  <td class="mono">${r.owner}${r.silent ? html` <span class="pill bad">silent</span>` : null}</td>
                  <td>${r.provider} <span class="muted mono small">${r.endpoint}</span></td>
                  <td><span class=${`pill ${tone}`}>${label}</span>
                    ${r.consecutive_failures ? html`<div class="muted small">${r.consecutive_failures} in a row; retry ${time(r.retry_at)}</div>` : null}</td>
                  <td class="num">${count(r.delivered)}</td>
                  <td class="num">${count(r.rejected)}</td>
                  <td>${Object.keys(r.failures).length
                    ? Object.entries(r.failures).map(([k, c]) => html`<span class="pill" key=${k}>${k}: ${count(c)}</span> `)
                    : html`<span class="muted">none</span>`}</td>
                  <td>${dateTime(r.heartbeat_at)}</td>
                </tr>`;
              })}</tbody>
            </table>`
          : html`<${Empty}>No relay has reported. Start one: <code>waxos serve</code> runs one, or <code>waxos relay</code>.<//>`}
      <//>
      <${Card} title="Failures by kind">
        ${failures.length
          ? html`<table><tbody>${failures.map(([kind, c]) => html`<tr key=${kind}><td>${kind}</td><td class="num">${count(c)}</td></tr>`)}</tbody></table>`
          : html`<${Empty}>No failed requests since the relays started.<//>`}
      <//>
      <${Card} title="Recent events" wide>
        ${data.recent.length
          ? html`<table>
              <thead><tr><th>Logged</th><th>Channel</th><th class="num">seq</th><th>Event</th><th>Delivered</th><th class="num">Latency</th></tr></thead>
              <tbody>${data.recent.map((e) => html`<tr key=${e.id}>
                <td>${time(e.occurred_at)}</td>
                <td class="mono">${e.channel}</td>
                <td class="num">${e.seq}</td>
                <td class="mono">${e.type}</td>
                <td>${e.delivered_at ? time(e.delivered_at) : html`<span class="pill warn">waiting</span>`}</td>
                <td class="num">${duration(e.latency_seconds)}</td>
              </tr>`)}</tbody>
            </table>`
          : html`<${Empty}>The event log is empty.<//>`}
      <//>
    </div>`;
}
