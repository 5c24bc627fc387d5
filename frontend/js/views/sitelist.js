// A batch from a list of restaurants' names and websites: one restaurant a line,
// `name, website_url[, email, phone]` (CSV: a field with a comma is quoted, "" is a quote), an
// optional header row `name,website_url[,email,phone]`; a CSV file is read into the same text.
// Parsing and checking are pure (data in, rows out); the preview is a component.
import { h } from "../ui.js";

export const MAX_RESTAURANTS = 1000;
const COLUMNS = ["name", "website_url", "email", "phone"];
// The server's rules decide; these catch the common slips before anything is sent.
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const PHONE = /^\+?[0-9][0-9 ().-]{4,38}$/;

/** The fields of one CSV line (quotes: "a, b" is one field; "" inside quotes is a quote). */
export function csvFields(line) {
  const fields = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && !field.trim()) {
      quoted = true;
      wasQuoted = true;
      field = "";
    } else if (c === ",") {
      fields.push(wasQuoted ? field : field.trim());
      field = "";
      wasQuoted = false;
    } else field += c;
  }
  fields.push(wasQuoted ? field : field.trim());
  return { fields, unclosed: quoted };
}

function isHeader(fields) {
  return fields.length >= 2 && fields[0].toLowerCase() === "name" && fields[1].toLowerCase().replace(/[\s-]/g, "_") === "website_url";
}

function urlProblem(value) {
  if (!value) return "the website address is missing";
  let url;
  try {
    url = new URL(value);
  } catch {
    return `“${value}” is not a web address (it starts with http:// or https://)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `“${value}” is not an http or https address`;
  if (url.username || url.password) return "the address must not carry a user name or password";
  return "";
}

/**
 * The restaurants of the text, a row per non-empty line (lines starting with # are comments):
 * {line, name, websiteUrl, email, phone, errors: [text]}. The header row, when present, is skipped.
 */
export function parseRestaurantLines(text) {
  const rows = [];
  const lines = String(text || "").replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const seen = new Map();
  lines.forEach((raw, index) => {
    if (!raw.trim() || raw.trim().startsWith("#")) return;
    const { fields, unclosed } = csvFields(raw);
    if (!rows.length && isHeader(fields) && !seen.size) {
      seen.set("\u0000header", index + 1);
      return;
    }
    const [name = "", websiteUrl = "", email = "", phone = "", ...extra] = fields;
    const errors = [];
    if (unclosed) errors.push("a quote is not closed");
    if (extra.some((f) => f)) errors.push(`too many values: at most ${COLUMNS.length} (${COLUMNS.join(", ")})`);
    if (!name) errors.push("the name is missing");
    else if (name.length > 200) errors.push("the name is longer than 200 characters");
    const bad = urlProblem(websiteUrl);
    if (bad) errors.push(bad);
    if (email && !EMAIL.test(email)) errors.push(`“${email}” is not an email address`);
    if (phone && !PHONE.test(phone)) errors.push(`“${phone}” is not a phone number`);
    const key = name.toLowerCase();
    if (name && seen.has(key)) errors.push(`the same name as line ${seen.get(key)}`);
    else if (name) seen.set(key, index + 1);
    rows.push({ line: index + 1, name, websiteUrl, email, phone, errors });
  });
  return rows;
}

/** The request's restaurants: `{name, website_url}` plus the email and phone when given. */
export function restaurantsOf(rows) {
  return rows.map((r) => {
    const restaurant = { name: r.name, website_url: r.websiteUrl };
    if (r.email) restaurant.email = r.email;
    if (r.phone) restaurant.phone = r.phone;
    return restaurant;
  });
}

/** "restaurants.2.website_url" -> {index: 2, field: "website_url"} (null for another field). */
export function restaurantField(field) {
  const match = /(?:^|\.)restaurants\.(\d+)(?:\.(.+))?$/.exec(String(field || ""));
  return match ? { index: Number(match[1]), field: match[2] || "" } : null;
}

/** The preview: a row per restaurant, its problems in its own cell (the row is marked). */
export function previewTable(rows) {
  if (!rows.length) return h("p", { class: "hint", id: "sites-preview-empty" }, "Nothing to preview yet: paste lines or choose a CSV file.");
  const bad = rows.filter((r) => r.errors.length).length;
  return h(
    "table",
    { class: "table preview-table", id: "sites-preview-table" },
    h("caption", { class: "hint" }, `${rows.length} restaurant${rows.length === 1 ? "" : "s"}${bad ? `, ${bad} with a problem to fix` : ", ready to create"}`),
    h("thead", {}, h("tr", {}, ["Line", "Name", "Website", "Email", "Phone", "Problems"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { class: r.errors.length ? "has-error" : "", dataset: { line: String(r.line) } },
          h("td", { class: "num" }, String(r.line)),
          h("th", { scope: "row" }, r.name || h("span", { class: "muted" }, "–")),
          h("td", { class: "details-cell" }, r.websiteUrl || "–"),
          h("td", { class: "details-cell" }, r.email || h("span", { class: "muted" }, "–")),
          h("td", {}, r.phone || h("span", { class: "muted" }, "–")),
          h("td", { class: "line-errors" }, r.errors.length ? h("ul", { class: "line-error" }, r.errors.map((e) => h("li", {}, e))) : h("span", { class: "chip chip--completed" }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✓"), h("span", { class: "chip-text" }, "ok"))),
        ),
      ),
    ),
  );
}
