// pages/presence.js: who is online in each of the user's workspaces, as Pusher's presence webhooks say,
// refreshed whenever a `user.online` event arrives.

import { html, useEffect } from "/static/vendor/htm-preact-standalone.module.js";
import { usePolled } from "../poll.js";
import { Card, Empty, ErrorNote, dateTime } from "../ui.js";

// The workspace channel `user.online` events travel on.
const USER_ONLINE_RESOURCE = "presence";

function Workspace({ workspace, connection }) {
  // Polled slowly as a safety net; every `user.online` event refreshes it at once.
  const { data, error, refresh } = usePolled(`/api/v1/workspaces/${workspace.id}/presence`, 15000);
  const channel = `private-workspace-${workspace.id}.${USER_ONLINE_RESOURCE}`;
  useEffect(() => connection.listen(channel, { onEvent: (e) => e.type === "user.online" && refresh() }), [channel]);
  const members = data?.members ?? [];
  const online = members.filter((m) => m.online);
  return html`<${Card} title=${`${workspace.name} · ${online.length} online`}>
    ${error ? html`<${ErrorNote} error=${error} />` : null}
    ${members.length
      ? html`<ul class="people" aria-label=${`${workspace.name} members`}>
          ${members.map((m) => html`<li key=${m.user_id} class=${m.online ? "online" : "offline"} data-user=${m.user_id}>
            <span class="dot" aria-hidden="true"></span>
            <span>${m.name}</span>
            <span class="muted small">${m.online ? "online" : m.since ? `last seen ${dateTime(m.since)}` : "offline"}</span>
            <span class="role">${m.role}</span>
          </li>`)}
        </ul>`
      : html`<${Empty}>${data ? "No members." : "Reading presence…"}<//>`}
  <//>`;
}

export function Presence({ me, connection }) {
  if (!me.workspaces.length) return html`<${Empty}>You belong to no workspace.<//>`;
  return html`<div class="grid">
    ${me.workspaces.map((w) => html`<${Workspace} key=${w.id} workspace=${w} connection=${connection} />`)}
  </div>`;
}
