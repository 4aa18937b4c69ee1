// pages/live.js: follow any channel the user may, and watch its events arrive — seq, time, type, payload —
// with the rows that catch-up filled in marked as such.

import { html, useEffect, useRef, useState } from "/static/vendor/htm-preact-standalone.module.js";
import { LiveLog } from "../livelog.js";
import { Empty, channelsFor, count } from "../ui.js";

const OTHER = "__other__";

export function Live({ me, connection }) {
  const suggestions = channelsFor(me);
  const linked = new URLSearchParams(location.search).get("channel");
  const linkedKnown = suggestions.some((s) => s.name === linked);
  const [choice, setChoice] = useState(linked && !linkedKnown ? OTHER : linked ?? suggestions[0].name);
  const [typed, setTyped] = useState(linked && !linkedKnown ? linked : "");
  // A link to /console/live?channel=… follows that channel at once.
  const [channel, setChannel] = useState(linked);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState("");
  const [stats, setStats] = useState({ received: 0, caughtUp: 0, dropped: 0, rate: 0, rows: 0 });
  const [selected, setSelected] = useState(null);
  const [problem, setProblem] = useState(null);
  const rowsRef = useRef(null);
  const logRef = useRef(null);

  useEffect(() => {
    const log = new LiveLog(rowsRef.current, { onSelect: setSelected });
    logRef.current = log;
    let last = { at: performance.now(), received: 0 };
    const timer = setInterval(() => {
      const now = performance.now();
      const rate = ((log.received - last.received) * 1000) / (now - last.at);
      last = { at: now, received: log.received };
      setStats({
        received: log.received,
        caughtUp: log.caughtUp,
        dropped: log.dropped,
        rate: Math.round(rate),
        rows: log.rows.childElementCount,
      });
    }, 500);
    return () => {
      clearInterval(timer);
      log.stop();
    };
  }, []);

  useEffect(() => {
    if (!channel) return undefined;
    const log = logRef.current;
    log.clear();
    setProblem(null);
    const stop = connection.listen(channel, {
      onEvent: (envelope, how) => log.push(envelope, how.source ?? "live"),
      onResync: (info) => log.note(`The log no longer holds these events (${info.reason}); continuing from seq ${info.head}.`),
      onDenied: (info) => setProblem(`The channel policy refused ${channel}${info?.reason ? `: ${info.reason}` : ""}.`),
    });
    const url = new URL(location.href);
    url.searchParams.set("channel", channel);
    history.replaceState(null, "", url);
    return stop;
  }, [channel]);

  useEffect(() => logRef.current?.setPaused(paused), [paused]);
  useEffect(() => logRef.current?.setFilter(filter), [filter]);

  const follow = (event) => {
    event.preventDefault();
    const name = choice === OTHER ? typed.trim() : choice;
    if (name) setChannel(name);
  };
  const known = choice !== OTHER;

  return html`<div class="live">
    <form class="toolbar" onSubmit=${follow} aria-label="Follow a channel">
      <label>Channel
        <select value=${choice} onChange=${(e) => setChoice(e.target.value)}>
          ${suggestions.map((s) => html`<option key=${s.name} value=${s.name}>${s.label} (${s.name})</option>`)}
          <option value=${OTHER}>Another channel…</option>
        </select>
      </label>
      ${known ? null : html`<label>Name
        <input value=${typed} placeholder="private-workspace-1.chats"
               onInput=${(e) => setTyped(e.target.value)} required />
      </label>`}
      <button type="submit" class="primary">Follow</button>
      <span class="spacer"></span>
      <label>Filter <input type="search" value=${filter} placeholder="type or payload"
                           onInput=${(e) => setFilter(e.target.value)} /></label>
      <button type="button" aria-pressed=${paused} onClick=${() => setPaused(!paused)}>${paused ? "Resume" : "Pause"}</button>
      <button type="button" onClick=${() => logRef.current.clear()}>Clear</button>
    </form>
    ${problem ? html`<div class="error-note" role="alert">${problem}</div>` : null}
    <div class="live-stats" aria-live="off">
      <span>Following <strong class="mono">${channel ?? "nothing yet"}</strong></span>
      <span><strong data-testid="received">${count(stats.received)}</strong> events</span>
      <span><strong>${count(stats.rate)}</strong>/s</span>
      <span><strong>${count(stats.caughtUp)}</strong> filled by catch-up</span>
      <span><strong>${count(stats.dropped)}</strong> dropped from view</span>
      <span><strong>${count(stats.rows)}</strong> rows kept (newest 2,000)</span>
    </div>
    <div class="live-body">
      <div class="log" tabindex="0" role="table" aria-label="Events, newest first">
        <div class="row head" role="row">
          <span class="cell num" role="columnheader">seq</span><span class="cell" role="columnheader">time</span>
          <span class="cell" role="columnheader">event</span><span class="cell" role="columnheader">via</span>
          <span class="cell" role="columnheader">payload</span>
        </div>
        <div class="rows" role="rowgroup" ref=${rowsRef}></div>
        ${channel ? null : html`<${Empty}>Pick a channel and press Follow: its events appear here as they happen.<//>`}
      </div>
      <aside class="inspector" aria-label="Selected event">
        <h2>Event</h2>
        ${selected
          ? html`<dl>
              <dt>type</dt><dd class="mono">${selected.type}</dd>
              <dt>seq</dt><dd>${selected.seq}</dd>
              <dt>id</dt><dd class="mono small">${selected.id}</dd>
              <dt>occurred</dt><dd>${new Date(selected.occurred_at).toISOString()}</dd>
            </dl>
            <pre class="json">${JSON.stringify(selected.data, null, 2)}</pre>`
          : html`<${Empty}>Click an event to see its payload.<//>`}
      </aside>
    </div>
  </div>`;
}
