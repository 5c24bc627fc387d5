// #/batches: the org's registration batches (a page at a time), the org's failures by cause,
// and a form to create a batch from JSON.
import { requests } from "../api.js";
import { chip, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { countChips, loadingError, poller, refreshBar } from "./common.js";
import { failuresTable } from "./failures.js";
import { MAX_RESTAURANTS, parseRestaurantLines, previewTable, restaurantField, restaurantsOf } from "./sitelist.js";

const SAMPLE = {
  name: "Wellington November",
  restaurants: [
    {
      name: "Cafe Aroha",
      email: "owner@aroha.example",
      phone: "+64 4 555 0101",
      branding: { primary_color: "#1a73e8", secondary_color: "#ffffff", logo_url: "https://aroha.example/logo.png", font: "Inter" },
      menu: {
        menu_id: "m-aroha-1",
        categories: [{ name: "Coffee", items: [{ name: "Flat white", price: 5.5, option_sets: [{ name: "Milk", options: [{ name: "Oat", price: 0.8 }] }], tags: ["vegan-option"] }] }],
      },
      company: { name: "Aroha Cafe Limited", number: "1234567" },
    },
  ],
};

export function renderBatches(main, { signal, onCleanup }) {
  document.title = "Batches · Pumpd onboarding";
  const list = h("section", { id: "batch-list", class: "card", "aria-label": "Batches" }, h("p", { class: "loading" }, "Loading the batches…"));
  const bar = refreshBar(() => load(true));
  const createMessage = messageArea("create-message");
  const textarea = h("textarea", { id: "batch-json", rows: 14, spellcheck: "false" });
  textarea.value = JSON.stringify(SAMPLE, null, 2);
  const createButton = h("button", { type: "submit", class: "button button--primary" }, "Create batch");
  const form = h(
    "form",
    { class: "create-batch", onsubmit: create },
    h("div", { class: "field" }, h("label", { for: "batch-json" }, "Batch as JSON (name and restaurants, as in the API)"), textarea),
    createButton,
    createMessage.el,
  );
  const pager = h("nav", { class: "pager", id: "batch-pager", "aria-label": "Pages of batches" });
  const failures = h("div", { id: "org-failures-body" }, h("p", { class: "loading" }, "Loading the failures…"));
  main.append(
    h("div", { class: "view-head" }, h("h1", {}, "Registration batches"), bar.el),
    list,
    pager,
    h(
      "details",
      { class: "card", id: "org-failures", ontoggle: (e) => e.target.open && loadFailures() },
      h("summary", {}, h("h2", { class: "summary-heading" }, "Failures across all batches")),
      h("p", { class: "hint" }, "Grouped by cause. Open a batch to resume a group or to see its jobs."),
      failures,
    ),
    sitesForm(),
    h("details", { class: "card" }, h("summary", {}, "Create a batch from JSON"), form),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());
  let firstLoad = true;
  let lastSignature = "";
  const cursors = [null]; // cursors[i] opens page i
  let index = 0;

  async function loadFailures() {
    try {
      replaceChildren(failures, failuresTable(await requests.listFailures(undefined, signal)));
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) replaceChildren(failures, h("p", { class: "message message--error", role: "alert" }, error.message));
    }
  }

  function go(to) {
    index = to;
    lastSignature = "";
    load(true).catch(() => {});
  }

  async function load(manual) {
    let batches;
    let nextCursor;
    try {
      ({ batches, nextCursor } = await requests.listBatches(cursors[index], signal));
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) throw error;
      if (firstLoad) loadingError(main, "Registration batches", error, () => location.reload());
      else bar.set(new Date(), true, `could not refresh: ${error.message}`);
      throw error;
    }
    firstLoad = false;
    if (nextCursor) cursors[index + 1] = nextCursor;
    replaceChildren(
      pager,
      index || nextCursor ? h("button", { type: "button", class: "button button--quiet", disabled: index === 0, onclick: () => go(index - 1) }, "Newer") : null,
      index || nextCursor ? h("button", { type: "button", class: "button button--quiet", disabled: !nextCursor, onclick: () => go(index + 1) }, "Older") : null,
    );
    batches.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    const running = batches.some((b) => b.status === "in_progress" || (b.jobCounts.in_progress || 0) > 0);
    const signature = JSON.stringify(batches);
    const changed = signature !== lastSignature;
    lastSignature = signature;
    if (changed) {
      replaceChildren(list, batches.length ? table(batches) : h("p", { class: "empty" }, "No batches yet. Create one below, or with POST /registration-batches."));
    }
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function table(batches) {
    return h(
      "table",
      { class: "table batches-table" },
      h("caption", { class: "visually-hidden" }, "Registration batches, newest first"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Batch"), h("th", { scope: "col" }, "Created"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Jobs by status"))),
      h(
        "tbody",
        {},
        batches.map((b) => {
          return h(
            "tr",
            { dataset: { batchId: b.batchId } },
            h("th", { scope: "row", "data-label": "Batch" }, h("a", { href: `#/batches/${encodeURIComponent(b.batchId)}` }, b.name)),
            h("td", { "data-label": "Created" }, timeElement(b.createdAt)),
            h("td", { "data-label": "Status" }, chip(b.status)),
            h("td", { "data-label": "Jobs" }, h("span", { class: "muted" }, `${b.jobTotal} total`), countChips(b.jobCounts)),
          );
        }),
      ),
    );
  }

  async function create(event) {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(textarea.value);
    } catch (error) {
      createMessage.show("error", `That is not valid JSON: ${error.message}`);
      textarea.focus();
      return;
    }
    createButton.disabled = true;
    createMessage.show("info", "Creating the batch…");
    try {
      const created = await requests.createBatch(body, signal);
      createMessage.show("success", `Batch created with ${created.jobIds.length} job(s). `, h("a", { href: `#/batches/${encodeURIComponent(created.batchId)}` }, "Open it"));
      await load(true).catch(() => {});
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) createMessage.show("error", error.message);
    } finally {
      createButton.disabled = false;
    }
  }

  // ------------------------------------------------------------ a batch from names and websites

  function sitesForm() {
    const message = messageArea("sites-message");
    const nameInput = h("input", { type: "text", id: "sites-batch-name", name: "batchName", required: true, maxlength: "200", autocomplete: "off" });
    const lines = h("textarea", {
      id: "sites-lines",
      name: "lines",
      rows: 8,
      spellcheck: "false",
      "aria-describedby": "sites-lines-hint",
      placeholder: "Luigi's Trattoria, https://luigis.example/\nHarbour Fish, https://harbour-fish.example/, orders@harbour-fish.example, +64 4 555 0199",
      oninput: () => preview(),
    });
    const file = h("input", { type: "file", id: "sites-file", accept: ".csv,text/csv", "aria-describedby": "sites-file-hint", onchange: readFile });
    const previewBox = h("div", { id: "sites-preview", "aria-live": "polite" });
    const submit = h("button", { type: "submit", id: "sites-submit", class: "button button--primary", disabled: true }, "Create batch");
    let rows = [];
    const sitesFormEl = h(
      "form",
      { class: "create-batch sites-form", id: "sites-form", novalidate: true, onsubmit: createFromSites },
      h("p", { class: "hint" }, "Each restaurant starts at Step 1: its menu and branding are read from its website, then Steps 2–4 find its contact details and company (you answer when they need you)."),
      h("div", { class: "field" }, h("label", { for: "sites-batch-name" }, "Batch name"), nameInput),
      h(
        "div",
        { class: "field" },
        h("label", { for: "sites-lines" }, "Restaurants, one a line"),
        h("p", { class: "hint", id: "sites-lines-hint" }, "name, website address — optionally followed by , email, phone. A value with a comma goes in double quotes."),
        lines,
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "sites-file" }, "…or a CSV file"),
        file,
        h("p", { class: "hint", id: "sites-file-hint" }, "Header row: name,website_url (optionally ,email,phone). Read here in the browser, into the box above, so you can check it before creating."),
      ),
      h("h3", {}, "Preview"),
      previewBox,
      h("div", { class: "form-actions" }, submit),
      message.el,
    );
    preview();

    function preview() {
      rows = parseRestaurantLines(lines.value);
      replaceChildren(previewBox, previewTable(rows));
      const bad = rows.some((r) => r.errors.length);
      submit.disabled = !rows.length || bad || rows.length > MAX_RESTAURANTS;
      submit.textContent = rows.length && !bad ? `Create batch (${rows.length} restaurant${rows.length === 1 ? "" : "s"})` : "Create batch";
      if (rows.length > MAX_RESTAURANTS) message.show("error", `At most ${MAX_RESTAURANTS} restaurants in one batch: split the list.`);
    }

    async function readFile() {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      try {
        lines.value = await chosen.text();
      } catch (error) {
        message.show("error", `Could not read ${chosen.name}: ${error.message}`);
        return;
      }
      if (!nameInput.value.trim()) nameInput.value = chosen.name.replace(/\.csv$/i, "");
      message.show("info", `Read ${chosen.name}: check the preview, then create the batch.`);
      preview();
    }

    async function createFromSites(event) {
      event.preventDefault();
      preview();
      const name = nameInput.value.trim();
      if (!name) {
        message.show("error", "Give the batch a name.");
        nameInput.setAttribute("aria-invalid", "true");
        nameInput.focus();
        return;
      }
      nameInput.removeAttribute("aria-invalid");
      if (submit.disabled) {
        message.show("error", rows.length ? "Fix the lines marked in the preview first." : "Add at least one restaurant.");
        lines.focus();
        return;
      }
      submit.disabled = true;
      message.show("info", `Creating the batch of ${rows.length}…`);
      try {
        const created = await requests.createBatch({ name, restaurants: restaurantsOf(rows) }, signal);
        message.show("success", `Batch created with ${created.jobIds.length} job(s): opening it…`);
        location.hash = `#/batches/${encodeURIComponent(created.batchId)}`;
      } catch (error) {
        if (error.name === "AbortError" || signal.aborted) return;
        // A refused restaurant is shown on its own line of the preview.
        for (const f of error.fields || []) {
          const at = restaurantField(f.field);
          if (at && rows[at.index]) rows[at.index].errors.push(`${at.field ? `${at.field}: ` : ""}${f.message}`);
        }
        replaceChildren(previewBox, previewTable(rows));
        message.show("error", error.message);
        submit.disabled = false;
      }
    }

    return h("details", { class: "card", id: "create-from-sites" }, h("summary", {}, "Create a batch from names and websites"), sitesFormEl);
  }

  load(true).catch(() => {});
}
