// pages/usage.js: usage against the plan — connections, subscriptions, events and messages, now, per hour
// over 24 hours and per day over 30 days. Operators see every workspace; a workspace admin sees theirs.

import { html, useEffect, useMemo, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { TimeChart } from "../chart.js";
import { usePolled } from "../poll.js";
import { Card, Empty, Problem, Stat, count, percent } from "../ui.js";

function Meter({ value, limit, warn }) {
  const share = Math.min(100, percent(value, limit));
  const tone = value >= limit ? "bad" : value >= warn * limit ? "warn" : "";
  return html`<div class=${`meter ${tone}`} role="meter" aria-valuemin="0" aria-valuemax=${limit} aria-valuenow=${value}>
    <span style=${{ width: `${share}%` }}></span>
  </div>`;
}

export function Usage({ me }) {
  const operator = Boolean(me.is_operator);
  // An operator picks among every workspace (learnt from the account-wide answer); an admin among theirs.
  const [everyWorkspace, setEveryWorkspace] = useState([]);
  const choices = operator
    ? [{ id: "", name: "All workspaces" }, ...everyWorkspace]
    : me.workspaces.filter((w) => w.role === "admin").map((w) => ({ id: String(w.id), name: w.name }));
  const [choice, setChoice] = useState(operator ? "" : choices[0]?.id ?? "");
  const path = `/api/v1/ops/usage${choice ? `?workspace_id=${choice}` : ""}`;
  const { data, error, at, refresh } = usePolled(path, 15000);
  useEffect(() => {
    if (data?.scope === "all") setEveryWorkspace(data.workspaces.map((w) => ({ id: String(w.workspace_id), name: w.name })));
  }, [data]);
  const hours = useMemo(() => data?.hourly.map((p) => new Date(p.start)) ?? [], [data]);
  const days = useMemo(() => data?.daily.map((p) => new Date(p.start)) ?? [], [data]);
  if (error && !data) return html`<${Problem} status=${error.status} message=${error.message} />`;
  if (!data) return html`<p class="muted">Reading usage…</p>`;
  const { limits } = data;
  const warnAt = (limit) => Math.round(limit * limits.warn_ratio);
  const hourly = (key) => data.hourly.map((p) => p.usage[key]);
  const daily = (key) => data.daily.map((p) => p.usage[key]);
  const flat = (n, length) => Array.from({ length }, () => n);
  return html`
    <div class="toolbar">
      <label>Workspace
        <select value=${choice} onChange=${(e) => setChoice(e.target.value)}>
          ${choices.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
        </select>
      </label>
      <span class="spacer"></span>
      <span class="muted">Limits are the plan's, account-wide; warnings at ${Math.round(limits.warn_ratio * 100)}%.
        Refreshed every 15 s${at ? ` · ${at.toLocaleTimeString("en-GB")}` : ""}.</span>
      <button type="button" onClick=${refresh}>Refresh</button>
    </div>
    <div class="stats" style=${{ marginTop: "1rem" }}>
      <div class="stat">
        <div class="stat-label">Connections now</div>
        <div class="stat-value" data-testid="connections-now">${count(data.now.connections)}</div>
        <div class="stat-hint">of ${count(limits.max_connections)} · ${percent(data.now.connections, limits.max_connections)}%</div>
        <${Meter} value=${data.now.connections} limit=${limits.max_connections} warn=${limits.warn_ratio} />
      </div>
      <div class="stat">
        <div class="stat-label">Pusher messages today</div>
        <div class="stat-value">${count(data.today.pusher_messages)}</div>
        <div class="stat-hint">of ${count(limits.max_messages_per_day)} a day (estimate)</div>
        <${Meter} value=${data.today.pusher_messages} limit=${limits.max_messages_per_day} warn=${limits.warn_ratio} />
      </div>
      <${Stat} label="Events today" value=${html`<span data-testid="events-today">${count(data.today.events)}</span>`} hint="published through the log" />
      <${Stat} label="Chat messages today" value=${html`<span data-testid="chat-messages-today">${count(data.today.chat_messages)}</span>`} hint="message.new events" />
      <${Stat} label="Subscriptions now" value=${count(data.now.subscriptions)} hint=${`${count(data.now.presence_members)} in presence`} />
    </div>
    <div class="grid charts">
      <${Card} title="Last 24 hours — events">
        <${TimeChart} label="Events and chat messages per hour, last 24 hours" times=${hours} series=${[
          { label: "Events", kind: "bars", values: hourly("events") },
          { label: "Chat messages", kind: "bars", values: hourly("chat_messages") },
        ]} />
      <//>
      <${Card} title="Last 24 hours — connections">
        <${TimeChart} label="Peak connections per hour against the plan, last 24 hours" times=${hours} series=${[
          { label: "Peak connections", kind: "line", values: hourly("connections") },
          { label: `Warn (${count(warnAt(limits.max_connections))})`, kind: "limit", values: flat(warnAt(limits.max_connections), hours.length) },
        ]} />
      <//>
      <${Card} title="Last 30 days — Pusher messages per day" wide>
        <${TimeChart} step="day" label="Estimated Pusher messages per day against the daily limit, last 30 days" times=${days} series=${[
          { label: "Pusher messages (estimate)", kind: "bars", values: daily("pusher_messages") },
          { label: "Events", kind: "bars", values: daily("events") },
          { label: `Warn (${count(warnAt(limits.max_messages_per_day))})`, kind: "limit", values: flat(warnAt(limits.max_messages_per_day), days.length) },
        ]} />
        <p class="legend-note">Pusher counts a message per API call and per delivery to each subscriber; the estimate multiplies
          each channel's events by its subscribers when they were counted.</p>
      <//>
      <${Card} title="Workspaces" wide>
        ${data.workspaces.length
          ? html`<table>
              <thead><tr><th>Workspace</th><th class="num">Connections</th><th class="num">Peak 24 h</th>
                <th class="num">Subscriptions</th><th class="num">Events today</th><th class="num">Chat messages today</th>
                <th class="num">Pusher msgs today</th><th class="num">Share of plan</th></tr></thead>
              <tbody>${data.workspaces.map((w) => html`<tr key=${w.workspace_id} data-workspace=${w.workspace_id}>
                <td>${w.name}</td>
                <td class="num">${count(w.now.connections)}</td>
                <td class="num">${count(w.last_24h.connections)}</td>
                <td class="num">${count(w.now.subscriptions)}</td>
                <td class="num">${count(w.today.events)}</td>
                <td class="num">${count(w.today.chat_messages)}</td>
                <td class="num">${count(w.today.pusher_messages)}</td>
                <td class="num">${percent(w.now.connections, limits.max_connections)}%</td>
              </tr>`)}</tbody>
            </table>`
          : html`<${Empty}>No workspaces to show.<//>`}
      <//>
    </div>`;
}
