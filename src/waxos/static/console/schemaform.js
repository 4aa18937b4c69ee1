// schemaform.js: form fields generated from a catalogue entry's JSON Schema, and the same checks the
// server makes (required, integer > 0, enum, pattern, date-time), so most mistakes are caught before
// sending; the server's answer (its 422 `problems`) is shown whatever this lets through.

import { html } from "/static/vendor/htm-preact-standalone.module.js";

/** The schema of a property without its `null` alternative, and whether it may be left empty. */
export function unwrap(schema, required) {
  const options = schema.anyOf ?? [schema];
  const real = options.find((o) => o.type !== "null") ?? options[0];
  return { ...schema, ...real, optional: !required || options.some((o) => o.type === "null") };
}

export function fieldsOf(schema) {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    ...unwrap(property, required.has(name)),
  }));
}

/** Starting values: defaults, the first choice of an enum, now for a timestamp. */
export function initialValues(schema) {
  const values = {};
  for (const field of fieldsOf(schema)) {
    if (field.enum && !field.optional) values[field.name] = field.enum[0];
    else if (field.type === "boolean" && !field.optional) values[field.name] = "true";
    else if (field.format === "date-time") values[field.name] = new Date().toISOString();
    else if (field.type === "array") values[field.name] = (field.default ?? []).join(", ");
    else values[field.name] = "";
  }
  return values;
}

/** The payload the form's text values stand for, and a problem per field that fails the schema. */
export function payloadFrom(schema, values) {
  const data = {};
  const problems = {};
  for (const field of fieldsOf(schema)) {
    const raw = String(values[field.name] ?? "").trim();
    if (raw === "") {
      if (!field.optional) problems[field.name] = "required";
      continue;
    }
    if (field.type === "integer") {
      const n = Number(raw);
      if (!Number.isInteger(n)) problems[field.name] = "a whole number";
      else if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) {
        problems[field.name] = `greater than ${field.exclusiveMinimum}`;
      } else data[field.name] = n;
    } else if (field.type === "boolean") {
      data[field.name] = raw === "true";
    } else if (field.type === "array") {
      const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
      const pattern = field.items?.pattern ? new RegExp(field.items.pattern) : null;
      const bad = pattern ? items.find((item) => !pattern.test(item)) : undefined;
      if (bad !== undefined) problems[field.name] = `"${bad}" does not match ${field.items.pattern}`;
      else data[field.name] = items;
    } else if (field.enum && !field.enum.includes(raw)) {
      problems[field.name] = `one of ${field.enum.join(", ")}`;
    } else if (field.format === "date-time" && Number.isNaN(Date.parse(raw))) {
      problems[field.name] = "a date and time, e.g. 2026-11-30T12:00:00Z";
    } else if (field.pattern && !new RegExp(field.pattern).test(raw)) {
      problems[field.name] = `must match ${field.pattern}`;
    } else {
      data[field.name] = raw;
    }
  }
  return { data, problems };
}

function hint(field) {
  if (field.type === "integer") return "whole number > 0";
  if (field.format === "date-time") return "ISO 8601 time";
  if (field.type === "array") return "comma-separated";
  if (field.pattern) return field.pattern;
  return field.optional ? "optional" : "";
}

/** One labelled input per property; `problems` (client or server) shown under each. */
export function SchemaFields({ schema, values, problems, onChange }) {
  return fieldsOf(schema).map((field) => {
    const id = `field-${field.name}`;
    const set = (e) => onChange({ ...values, [field.name]: e.target.value });
    const value = values[field.name] ?? "";
    let input;
    if (field.enum || field.type === "boolean") {
      const choices = field.enum ?? ["true", "false"];
      input = html`<select id=${id} value=${value} onChange=${set} aria-invalid=${Boolean(problems[field.name])}>
        ${field.optional ? html`<option value="">—</option>` : null}
        ${choices.map((c) => html`<option key=${String(c)} value=${String(c)}>${String(c)}</option>`)}
      </select>`;
    } else {
      input = html`<input id=${id} value=${value} onInput=${set}
        inputmode=${field.type === "integer" ? "numeric" : undefined}
        aria-invalid=${Boolean(problems[field.name])} aria-describedby=${`${id}-hint`} />`;
    }
    return html`<div class="field" key=${field.name}>
      <label for=${id}>${field.name}${field.optional ? "" : html`<span class="req" aria-label="required">*</span>`}</label>
      ${input}
      <div class="field-hint" id=${`${id}-hint`}>${hint(field)}</div>
      ${problems[field.name] ? html`<div class="field-problem" role="alert">${problems[field.name]}</div>` : null}
    </div>`;
  });
}
