// pages/inbox.js: enough of the team inbox to drive a demo by hand — chats, messages in and out,
// assignment, read receipts, AI suggestions — each through the real API, so each shows up on Live.

import { html, useCallback, useEffect, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { api } from "../session.js";
import { Card, Empty, ErrorNote, Problem, dateTime } from "../ui.js";

const MESSAGE_EVENTS = new Set(["message.new", "message.status", "message.updated", "message.deleted"]);

function useLoad(path, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const load = useCallback(() => {
    if (!path) return Promise.resolve();
    return api(path).then((data) => setState({ data, error: null }), (error) => setState({ data: null, error }));
  }, [path]);
  useEffect(() => {
    setState({ data: null, error: null });
    load();
  }, [path, ...deps]);
  return [state, load];
}

function NewChat({ workspaceId, onCreated }) {
  const [name, setName] = useState("");
  const [handle, setHandle] = useState("");
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const chat = await api(`/api/v1/workspaces/${workspaceId}/chats`, { method: "POST", json: { customer: { name, handle } } });
      setName("");
      setHandle("");
      onCreated(chat);
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<form class="form" onSubmit=${submit} aria-label="New chat">
    <div class="row">
      <label>Customer<input value=${name} onInput=${(e) => setName(e.target.value)} required placeholder="Dana Customer" /></label>
      <label>Handle<input value=${handle} onInput=${(e) => setHandle(e.target.value)} required placeholder="+1 555 0100" /></label>
      <button type="submit">New chat</button>
    </div>
    <${ErrorNote} error=${error} />
  </form>`;
}

function Chat({ chatId, members, me, isAdmin, connection, channel, onChanged }) {
  const [chat, reloadChat] = useLoad(`/api/v1/chats/${chatId}`, []);
  const [messages, reloadMessages] = useLoad(`/api/v1/chats/${chatId}/messages?after=0&limit=200`, []);
  const [suggestions, reloadSuggestions] = useLoad(`/api/v1/chats/${chatId}/suggestions`, []);
  const [body, setBody] = useState("");
  const [direction, setDirection] = useState("inbound");
  const [proposal, setProposal] = useState("");
  const [error, setError] = useState(null);

  useEffect(
    () =>
      connection.listen(channel, {
        onEvent: (envelope) => {
          if (envelope.data.chat_id !== chatId) return;
          if (MESSAGE_EVENTS.has(envelope.type)) reloadMessages();
          else if (envelope.type.startsWith("ai.")) reloadSuggestions();
          else reloadChat();
        },
      }),
    [channel, chatId],
  );

  const act = async (request, after) => {
    setError(null);
    try {
      await request();
      await after?.();
    } catch (failure) {
      setError(failure);
    }
  };
  if (chat.error) return html`<${Problem} status=${chat.error.status} message=${chat.error.message} />`;
  if (!chat.data) return html`<p class="muted">Opening the chat…</p>`;
  const c = chat.data;
  const items = messages.data?.items ?? [];
  const lastInbound = [...items].reverse().find((m) => m.direction === "inbound");
  const send = (event) => {
    event.preventDefault();
    act(
      () => api(`/api/v1/chats/${chatId}/messages`, { method: "POST", json: { body, direction, client_id: crypto.randomUUID() } }),
      () => {
        setBody("");
        return reloadMessages();
      },
    );
  };
  const assign = (userId) =>
    act(
      () => (userId ? api(`/api/v1/chats/${chatId}/assignee`, { method: "PUT", json: { user_id: Number(userId) } }) : api(`/api/v1/chats/${chatId}/assignee`, { method: "DELETE" })),
      () => Promise.all([reloadChat(), onChanged()]),
    );
  const memberName = (id) => members.find((m) => m.user_id === id)?.name ?? `user ${id}`;
  return html`<div class="chat">
    <div class="row" style=${{ justifyContent: "space-between", marginBottom: ".75rem" }}>
      <div>
        <h2 class="chat-title">${c.customer.name}</h2>
        <div class="muted">${c.customer.handle} · chat ${c.id} · <span class=${`pill ${c.status === "open" ? "ok" : ""}`}>${c.status}</span></div>
      </div>
      <div class="row">
        <label>Assignee
          <select value=${c.assignee_id ?? ""} onChange=${(e) => assign(e.target.value)}>
            <option value="">Unassigned</option>
            ${members.map((m) => html`<option key=${m.user_id} value=${m.user_id}>${m.name}${m.user_id === me.id ? " (me)" : ""}</option>`)}
          </select>
        </label>
        <button type="button" disabled=${!lastInbound || lastInbound.status === "read"}
                onClick=${() => act(() => api(`/api/v1/chats/${chatId}/read`, { method: "POST", json: { up_to_message_id: lastInbound.id } }), reloadMessages)}>
          Mark read</button>
        <button type="button" onClick=${() => act(() => api(`/api/v1/chats/${chatId}`, { method: "PATCH", json: { status: c.status === "open" ? "closed" : "open" } }), () => Promise.all([reloadChat(), onChanged()]))}>
          ${c.status === "open" ? "Close chat" : "Reopen"}</button>
      </div>
    </div>
    <ul class="messages" aria-label="Messages" aria-live="polite">
      ${items.length
        ? items.map((m) => html`<li key=${m.id} class=${`message ${m.direction}`}>
            ${m.body}
            <div class="meta">${m.direction === "inbound" ? c.customer.name : m.sender_id ? memberName(m.sender_id) : "staff"} · ${dateTime(m.created_at)} · ${m.status}</div>
          </li>`)
        : html`<li><${Empty}>No messages yet. Post one as the customer (inbound) or as staff (outbound).<//></li>`}
    </ul>
    <form class="compose" onSubmit=${send} aria-label="Post a message">
      <label style=${{ flex: 1 }}>Message
        <textarea rows="2" value=${body} onInput=${(e) => setBody(e.target.value)} required
                  onKeyDown=${(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e); }}></textarea>
      </label>
      <label>As
        <select value=${direction} onChange=${(e) => setDirection(e.target.value)}>
          <option value="inbound">customer (inbound)</option>
          <option value="outbound">staff (outbound)</option>
        </select>
      </label>
      <button type="submit" class="primary">Send</button>
    </form>
    <${ErrorNote} error=${error} />
    <h3 class="section-title">AI suggestions</h3>
    ${(suggestions.data ?? []).length
      ? html`<ul class="people">${suggestions.data.map((s) => html`<li key=${s.id}>
          <span>${s.body}</span>
          <span class="role">
            <button type="button" class="primary" onClick=${() => act(() => api(`/api/v1/suggestions/${s.id}/accept`, { method: "POST" }), () => Promise.all([reloadSuggestions(), reloadMessages()]))}>Accept</button>
            ${" "}
            <button type="button" onClick=${() => act(() => api(`/api/v1/suggestions/${s.id}/discard`, { method: "POST" }), reloadSuggestions)}>Discard</button>
          </span>
        </li>`)}</ul>`
      : html`<p class="muted">No suggestion waiting.</p>`}
    ${isAdmin
      ? html`<form class="compose" aria-label="Propose a suggestion"
               onSubmit=${(e) => { e.preventDefault(); act(() => api(`/api/v1/chats/${chatId}/suggestions`, { method: "POST", json: { body: proposal } }), () => { setProposal(""); return reloadSuggestions(); }); }}>
          <label style=${{ flex: 1 }}>Propose a reply as the AI co-pilot would
            <input value=${proposal} onInput=${(e) => setProposal(e.target.value)} required placeholder="Thanks, we're on it!" />
          </label>
          <button type="submit">Propose</button>
        </form>`
      : null}
  </div>`;
}

export function Inbox({ me, connection }) {
  const [workspaceId, setWorkspaceId] = useState(me.workspaces[0]?.id);
  const [openChat, setOpenChat] = useState(null);
  const [chats, reloadChats] = useLoad(workspaceId ? `/api/v1/workspaces/${workspaceId}/chats?limit=50` : null, []);
  const [members] = useLoad(workspaceId ? `/api/v1/workspaces/${workspaceId}/members?limit=200` : null, []);
  const channel = `private-workspace-${workspaceId}.chats`;
  useEffect(() => {
    if (!workspaceId) return undefined;
    return connection.listen(channel, {
      onEvent: (envelope) => {
        if (envelope.type.startsWith("chat.") || envelope.type === "message.new") reloadChats();
      },
    });
  }, [channel]);
  if (!workspaceId) return html`<${Empty}>You belong to no workspace.<//>`;
  const workspace = me.workspaces.find((w) => w.id === workspaceId);
  const list = chats.data?.items ?? [];
  return html`<div>
    ${me.workspaces.length > 1
      ? html`<div class="toolbar" style=${{ marginBottom: "1rem" }}><label>Workspace
          <select value=${workspaceId} onChange=${(e) => { setWorkspaceId(Number(e.target.value)); setOpenChat(null); }}>
            ${me.workspaces.map((w) => html`<option key=${w.id} value=${w.id}>${w.name}</option>`)}
          </select></label></div>`
      : null}
    <div class="inbox">
      <${Card} title=${`${workspace.name} · chats`}>
        <${NewChat} workspaceId=${workspaceId} onCreated=${(chat) => { reloadChats(); setOpenChat(chat.id); }} />
        ${chats.error ? html`<${ErrorNote} error=${chats.error} />` : null}
        ${list.length
          ? html`<ul class="chat-list">${list.map((c) => html`<li key=${c.id}>
              <button type="button" aria-current=${c.id === openChat} onClick=${() => setOpenChat(c.id)}>
                <span>${c.customer.name}<br /><span class="muted small">${c.customer.handle}</span></span>
                <span class=${`pill ${c.status === "open" ? "ok" : ""}`}>${c.status}</span>
              </button>
            </li>`)}</ul>`
          : html`<${Empty}>No chats yet: start one above.<//>`}
      <//>
      <${Card}>
        ${openChat
          ? html`<${Chat} key=${openChat} chatId=${openChat} me=${me} connection=${connection} channel=${channel}
                     members=${members.data?.items ?? []} isAdmin=${workspace.role === "admin"} onChanged=${reloadChats} />`
          : html`<${Empty}>Open a chat on the left, or start one.<//>`}
      <//>
    </div>
  </div>`;
}
