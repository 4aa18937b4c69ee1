// pages/publish.js: workspace admins send a test event, built from the catalogue's JSON Schema, through
// the event log like any other event (POST /api/v1/workspaces/{id}/test-events).

import { html, useEffect, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { navigate } from "../nav.js";
import { SchemaFields, initialValues, payloadFrom } from "../schemaform.js";
import { api } from "../session.js";
import { Card, ErrorNote, Problem } from "../ui.js";

const RESOURCES = ["chats", "notifications"];

export function Publish({ me }) {
  const workspaces = me.workspaces.filter((w) => w.role === "admin");
  const [catalogue, setCatalogue] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [workspaceId, setWorkspaceId] = useState(workspaces[0]?.id);
  const [resource, setResource] = useState(RESOURCES[0]);
  const [type, setType] = useState("message.new");
  const [values, setValues] = useState({});
  const [raw, setRaw] = useState(null); // the JSON text while the raw editor is open
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);

  useEffect(() => {
    api("/api/v1/events/catalogue").then((c) => setCatalogue(c.events), setLoadError);
  }, []);
  const entry = catalogue?.find((e) => e.type === type);
  useEffect(() => {
    if (entry) setValues(initialValues(entry.payload_schema));
    setProblems({});
    setRaw(null);
  }, [entry]);

  if (loadError) return html`<${Problem} status=${loadError.status} message=${loadError.message} />`;
  if (!catalogue) return html`<p class="muted">Loading the event catalogue…</p>`;
  const channel = `private-workspace-${workspaceId}.${resource}`;

  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setSent(null);
    let data;
    if (raw !== null) {
      try {
        data = JSON.parse(raw);
      } catch (failure) {
        setError({ code: "invalid_json", message: failure.message });
        return;
      }
    } else {
      const checked = payloadFrom(entry.payload_schema, values);
      setProblems(checked.problems);
      if (Object.keys(checked.problems).length) return;
      data = checked.data;
    }
    try {
      setSent(await api(`/api/v1/workspaces/${workspaceId}/test-events`, { method: "POST", json: { channel, type, data } }));
    } catch (failure) {
      setError(failure);
      setProblems(Object.fromEntries((failure.problems ?? []).map((p) => [p.field, p.problem])));
    }
  };
  const toggleRaw = () => {
    if (raw === null) setRaw(JSON.stringify(payloadFrom(entry.payload_schema, values).data, null, 2));
    else setRaw(null);
  };

  return html`<div class="grid">
    <${Card} title="Send a test event">
      <form class="form" onSubmit=${submit}>
        <div class="row">
          <label>Workspace
            <select value=${workspaceId} onChange=${(e) => setWorkspaceId(Number(e.target.value))}>
              ${workspaces.map((w) => html`<option key=${w.id} value=${w.id}>${w.name}</option>`)}
            </select>
          </label>
          <label>Channel
            <select value=${resource} onChange=${(e) => setResource(e.target.value)}>
              ${RESOURCES.map((r) => html`<option key=${r} value=${r}>${r}</option>`)}
            </select>
          </label>
          <label>Event
            <select value=${type} onChange=${(e) => setType(e.target.value)}>
              ${catalogue.map((e) => html`<option key=${e.type} value=${e.type}>${e.type}</option>`)}
            </select>
          </label>
        </div>
        <p class="muted">${entry?.description} It goes to <code>${channel}</code> through the event log.</p>
        ${raw === null
          ? html`<div class="fields"><${SchemaFields} schema=${entry.payload_schema} values=${values} problems=${problems} onChange=${setValues} /></div>`
          : html`<label>Payload (JSON)<textarea class="mono" rows="10" value=${raw} onInput=${(e) => setRaw(e.target.value)}></textarea></label>`}
        <${ErrorNote} error=${error} />
        <div class="actions">
          <button type="submit" class="primary">Send event</button>
          <button type="button" onClick=${toggleRaw}>${raw === null ? "Edit as JSON" : "Back to the form"}</button>
        </div>
      </form>
    <//>
    <${Card} title="Result">
      ${sent
        ? html`<div class="success" role="status">
            Logged as <strong>seq ${sent.seq}</strong> on <code>${sent.channel}</code>; the relay delivers it.
            <pre class="json">${JSON.stringify(sent, null, 2)}</pre>
            <a href=${`/console/live?channel=${encodeURIComponent(sent.channel)}`}
               onClick=${(e) => navigate(e, `/console/live?channel=${encodeURIComponent(sent.channel)}`)}>Watch it on Live</a>
          </div>`
        : html`<p class="muted">The logged envelope appears here. Open Live on the same channel in another tab to see it arrive.</p>`}
    <//>
  </div>`;
}
