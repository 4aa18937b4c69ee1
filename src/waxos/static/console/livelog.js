// livelog.js: the Live page's event table, drawn with plain DOM in batches, one batch per frame.
//
// At 1,000 events a second a render per event would freeze the tab, and so would keeping every row.
// Events are queued as they arrive and drawn once per animation frame, newest first; the table keeps
// `rowCap` rows and the queue `queueCap` events (requestAnimationFrame stops in a background tab, so
// the queue must be bounded too): what falls off is counted as dropped, never silently lost from view.
// Rows are grid-laid divs with `content-visibility: auto`, so the browser lays out and paints only the
// rows on screen: inserting at the top of a 2,000-row table re-laid out every row, every frame.
// Payloads are shown with textContent only, so markup in a payload stays text.

export const ROW_CAP = 2000;
export const QUEUE_CAP = 5000;

const timeFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

function cell(row, text, className) {
  const span = document.createElement("span");
  span.setAttribute("role", "cell");
  span.textContent = text;
  span.className = className ? `cell ${className}` : "cell";
  row.appendChild(span);
  return span;
}

export class LiveLog {
  constructor(rows, { rowCap = ROW_CAP, queueCap = QUEUE_CAP, onSelect } = {}) {
    this.rows = rows;
    this.rowCap = rowCap;
    this.queueCap = queueCap;
    this.onSelect = onSelect;
    this.queue = [];
    this.kept = []; // envelopes shown, oldest first, parallel to the rows (newest row first)
    this.received = 0;
    this.caughtUp = 0;
    this.dropped = 0;
    this.frames = 0;
    this.paused = false;
    this.filter = "";
    this._frame = 0;
    this._selected = null;
    rows.addEventListener("click", (event) => this._select(event.target.closest(".row")));
    // The table is one tab stop: arrow keys move the selection through the rows.
    rows.parentElement?.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      event.preventDefault();
      const from = this._selected ?? (event.key === "ArrowDown" ? null : this.rows.firstElementChild);
      let next = from ? (event.key === "ArrowDown" ? from.nextElementSibling : from.previousElementSibling) : this.rows.firstElementChild;
      while (next && !next.item) next = event.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
      if (next) {
        this._select(next);
        next.scrollIntoView({ block: "nearest" });
      }
    });
  }

  /** Queue one event; `source` is "live", or "catchup"/"poll" when the gap-filler brought it. */
  push(envelope, source = "live") {
    this.received += 1;
    if (source !== "live") this.caughtUp += 1;
    this.queue.push({ envelope, source, text: JSON.stringify(envelope.data) });
    if (this.queue.length > this.queueCap) {
      const over = this.queue.length - this.queueCap;
      this.queue.splice(0, over);
      this.dropped += over;
    }
    this._schedule();
  }

  /** A line across the table: a resync, a denial, a change of channel. */
  note(text) {
    this.queue.push({ note: text });
    this._schedule();
  }

  setPaused(paused) {
    this.paused = paused;
    this._schedule();
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.rows.replaceChildren();
    const items = this.kept;
    this.kept = [];
    this._draw(items);
  }

  clear() {
    this.queue = [];
    this.kept = [];
    this.rows.replaceChildren();
    this.received = this.caughtUp = this.dropped = 0;
    this._selected = null;
    this.onSelect?.(null);
  }

  stop() {
    cancelAnimationFrame(this._frame);
    this._frame = 0;
  }

  _schedule() {
    if (!this._frame && !this.paused && this.queue.length) {
      this._frame = requestAnimationFrame(() => this._flush());
    }
  }

  _flush() {
    this._frame = 0;
    this.frames += 1;
    const items = this.queue;
    this.queue = [];
    this._draw(items);
    // What has been drawn so far, readable without the page's internals (the browser test waits on it).
    this.rows.dataset.received = String(this.received);
  }

  _matches(item) {
    if (!this.filter || item.note) return true;
    return item.envelope.type.toLowerCase().includes(this.filter) || item.text.toLowerCase().includes(this.filter);
  }

  _draw(items) {
    const fragment = document.createDocumentFragment();
    // Newest first: the last item of the batch becomes the top row.
    for (let i = items.length - 1; i >= 0; i -= 1) {
      const item = items[i];
      this.kept.push(item);
      if (this._matches(item)) fragment.appendChild(this._row(item));
    }
    this.rows.prepend(fragment);
    const overKept = this.kept.length - this.rowCap;
    if (overKept > 0) this.kept.splice(0, overKept);
    while (this.rows.childElementCount > this.rowCap) this.rows.lastElementChild.remove();
  }

  _row(item) {
    const row = document.createElement("div");
    row.setAttribute("role", "row");
    if (item.note) {
      row.className = "row note";
      cell(row, item.note);
      return row;
    }
    const { envelope, source } = item;
    row.item = item;
    row.className = source === "live" ? "row" : "row caught-up";
    cell(row, String(envelope.seq), "num");
    cell(row, timeFormat.format(new Date(envelope.occurred_at)), "time");
    cell(row, envelope.type, "type");
    cell(row, source === "live" ? "live" : "catch-up", "via");
    cell(row, item.text, "payload");
    return row;
  }

  _select(row) {
    if (!row?.item) return;
    this._selected?.classList.remove("selected");
    row.classList.add("selected");
    this._selected = row;
    this.onSelect?.(row.item.envelope);
  }
}
