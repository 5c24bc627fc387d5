// #/operations and #/operations/<id>: the org's bulk operations, newest first, each with a
// progress bar; one operation's per-job outcomes (paged, filtered by outcome) and Cancel.
// Both poll with backoff while an operation is queued or running.
import { requests } from "../api.js";
import { phaseLabel, subStepLabel } from "../catalogue.js";
import { chip, h, messageArea, replaceChildren, statusText, timeElement } from "../ui.js";
import { poller, readForView, refreshBar } from "./common.js";

const ACTIONS = { resume_step6: "Resume Step 6", submit_step5: "Submit Step 5", cancel: "Cancel runs" };
const OUTCOMES = ["pending", "running", "succeeded", "failed", "rejected", "cancelled"];
const SETTLED = ["succeeded", "failed", "rejected", "cancelled"];

export function actionText(action) {
  return ACTIONS[action] || String(action).replaceAll("_", " ");
}

export function isActive(op) {
  return op.status === "queued" || op.status === "running";
}

/** Settled jobs (succeeded + failed + rejected + cancelled) out of the matched ones, 0–100. */
export function progressOf(op) {
  const done = SETTLED.reduce((sum, k) => sum + (op.counts[k] || 0), 0);
  const matched = op.counts.matched || 0;
  return { done, matched, percent: matched ? Math.round((100 * done) / matched) : isActive(op) ? 0 : 100 };
}

/** A progress bar with its numbers in words (never the bar alone). */
export function progressBar(op) {
  const p = progressOf(op);
  const fill = h("div", { class: "progress-fill" });
  fill.style.width = `${p.percent}%`; // through CSSOM: the deployed CSP refuses style attributes
  return h(
    "div",
    { class: `progress progress--${op.status}`, dataset: { percent: String(p.percent) } },
    h(
      "div",
      { class: "progress-track", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(p.percent), "aria-valuetext": `${p.done} of ${p.matched} settled`, "aria-label": "Progress" },
      fill,
    ),
    h("span", { class: "progress-text" }, `${p.percent}% · ${p.done} of ${p.matched} settled`),
  );
}

function countsList(op) {
  const c = op.counts;
  return h(
    "ul",
    { class: "counts op-counts" },
    ["running", "pending", "succeeded", "failed", "rejected", "cancelled"].filter((k) => c[k]).map((k) => h("li", { dataset: { count: k } }, chip(k, { count: c[k] }))),
    h("li", { class: "muted", dataset: { count: "matched" } }, `${c.matched} matched`),
  );
}

/** The selector in words: "failed at Restaurant registration · cause platform_rejected · resumable only". */
export function selectorText(op) {
  const words = {
    job_ids: (v) => `${v.length} chosen job${v.length === 1 ? "" : "s"}`,
    job_count: (v) => `${v} chosen job${v === 1 ? "" : "s"}`,
    status: (v) => `status ${statusText(v)}`,
    step6_status: (v) => `Step 6 ${statusText(v)}`,
    failed_phase: (v) => `failed in ${phaseLabel(v) || v}`,
    failed_sub_step: (v) => `failed at ${subStepLabel(v) || v}`,
    error_code: (v) => `cause ${v}`,
    resumable: (v) => (v ? "resumable only" : "not resumable"),
    batch_id: () => null,
  };
  return op.selector
    .map(([k, v]) => (words[k] ? words[k](v) : `${k.replaceAll("_", " ")}: ${v}`))
    .filter(Boolean)
    .join(" · ");
}

function batchLink(op) {
  const found = op.selector.find(([k]) => k === "batch_id");
  return found ? h("a", { href: `#/batches/${encodeURIComponent(found[1])}` }, "the batch") : null;
}

// ---------------------------------------------------------------- the list

export function renderOperations(main, { signal, onCleanup }) {
  document.title = "Operations · Pumpd onboarding";
  const state = { firstLoad: true, lastSignature: "", cursors: [null], index: 0, nextCursor: null };
  const bar = refreshBar(() => load(true).catch(() => {}));
  const list = h("section", { id: "operation-list", class: "card", "aria-label": "Operations" }, h("p", { class: "loading" }, "Loading the operations…"));
  const pager = h("nav", { class: "pager", "aria-label": "Pages of operations" });
  main.append(h("div", { class: "view-head" }, h("h1", {}, "Operations"), bar.el), h("p", { class: "hint" }, "Bulk actions over many jobs, newest first. Each runs in the background, at most its concurrency at a time."), list, pager);

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  async function load(manual) {
    const page = await readForView(() => requests.listOperations(state.cursors[state.index], signal), { title: "Operations", main, bar, state, signal });
    state.firstLoad = false;
    if (page.nextCursor) state.cursors[state.index + 1] = page.nextCursor;
    const running = page.operations.some(isActive);
    const signature = JSON.stringify(page);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) {
      replaceChildren(list, page.operations.length ? table(page.operations) : h("p", { class: "empty" }, "No operations yet. Start one from a batch: select jobs, or use the Failures panel."));
      replaceChildren(
        pager,
        h("button", { type: "button", class: "button button--quiet", disabled: state.index === 0, onclick: () => go(state.index - 1) }, "Newer"),
        h("button", { type: "button", class: "button button--quiet", disabled: !page.nextCursor, onclick: () => go(state.index + 1) }, "Older"),
      );
    }
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function go(index) {
    state.index = index;
    state.lastSignature = "";
    load(true).catch(() => {});
  }

  function table(operations) {
    return h(
      "table",
      { class: "table operations-table" },
      h("caption", { class: "visually-hidden" }, "Operations, newest first"),
      h("thead", {}, h("tr", {}, ["Operation", "Status", "Progress", "Counts", "By", "Created"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        operations.map((op) =>
          h(
            "tr",
            { class: "operation-row", dataset: { operationId: op.operationId, status: op.status } },
            h("th", { scope: "row", "data-label": "Operation" }, h("a", { href: `#/operations/${encodeURIComponent(op.operationId)}` }, actionText(op.action)), h("span", { class: "hint block" }, selectorText(op) || "whole batch")),
            h("td", { "data-label": "Status" }, chip(op.status)),
            h("td", { "data-label": "Progress", class: "progress-cell" }, progressBar(op)),
            h("td", { "data-label": "Counts" }, countsList(op)),
            h("td", { "data-label": "By" }, op.actor || "–"),
            h("td", { "data-label": "Created" }, timeElement(op.createdAt)),
          ),
        ),
      ),
    );
  }

  load(true).catch(() => {});
}

// ---------------------------------------------------------------- one operation

export function renderOperation(main, { id, signal, onCleanup }) {
  document.title = "Operation · Pumpd onboarding";
  const state = { firstLoad: true, lastSignature: "", outcome: "", cursors: [null], index: 0, cancelling: false };
  const heading = h("h1", {}, "Operation");
  const bar = refreshBar(() => load(true).catch(() => {}));
  const facts = h("div", { id: "operation-facts" });
  const progress = h("div", { id: "operation-progress" });
  const cancelButton = h("button", { type: "button", id: "cancel-operation", class: "button button--danger", hidden: true, onclick: cancel }, "Cancel operation");
  const message = messageArea("operation-message");
  const outcomeSelect = h(
    "select",
    {
      id: "outcome-filter",
      onchange: (e) => {
        state.outcome = e.target.value;
        state.cursors = [null];
        state.index = 0;
        state.lastSignature = "";
        load(true).catch(() => {});
      },
    },
    h("option", { value: "" }, "any"),
    OUTCOMES.map((o) => h("option", { value: o }, o)),
  );
  const jobs = h("div", { id: "operation-jobs" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages of jobs" });

  main.append(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/operations" }, "All operations"), h("span", { "aria-hidden": "true" }, " / "), "Operation"),
    h("div", { class: "view-head" }, heading, bar.el),
    h("section", { class: "card", "aria-labelledby": "operation-progress-heading" }, h("h2", { id: "operation-progress-heading" }, "Progress"), facts, progress, h("div", { class: "toolbar" }, cancelButton, h("p", { class: "hint" }, "Cancel starts no further job; runs already started finish.")), message.el),
    h(
      "section",
      { class: "card", "aria-labelledby": "operation-jobs-heading" },
      h("h2", { id: "operation-jobs-heading" }, "Jobs"),
      h("div", { class: "filters" }, h("div", { class: "field field--inline" }, h("label", { for: "outcome-filter" }, "Outcome"), outcomeSelect)),
      jobs,
      pager,
    ),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  async function load(manual) {
    const [op, page] = await readForView(
      () => Promise.all([requests.getOperation(id, signal), requests.getOperationJobs(id, { outcome: state.outcome, cursor: state.cursors[state.index] }, signal)]),
      { title: "Operation", main, bar, state, signal },
    );
    state.firstLoad = false;
    if (page.nextCursor) state.cursors[state.index + 1] = page.nextCursor;
    const running = isActive(op);
    const signature = JSON.stringify([op, page]);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) show(op, page);
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function show(op, page) {
    const title = `${actionText(op.action)} · ${op.counts.matched} job${op.counts.matched === 1 ? "" : "s"}`;
    document.title = `${title} · Pumpd onboarding`;
    heading.textContent = title;
    const link = batchLink(op);
    replaceChildren(
      facts,
      h(
        "dl",
        { class: "facts" },
        h("div", {}, h("dt", {}, "Status"), h("dd", { id: "operation-status" }, chip(op.status, { label: "Operation status" }))),
        h("div", {}, h("dt", {}, "Selection"), h("dd", {}, selectorText(op) || "every job", link ? [" of ", link] : null)),
        h("div", {}, h("dt", {}, "At most at a time"), h("dd", {}, String(op.maxConcurrency))),
        h("div", {}, h("dt", {}, "By"), h("dd", {}, op.actor || "–")),
        h("div", {}, h("dt", {}, "Created"), h("dd", {}, timeElement(op.createdAt))),
      ),
    );
    replaceChildren(progress, progressBar(op), countsList(op));
    cancelButton.hidden = !isActive(op);
    cancelButton.disabled = state.cancelling;
    replaceChildren(jobs, page.jobs.length ? jobsTable(page.jobs) : h("p", { class: "empty" }, state.outcome ? `No job is ${state.outcome}.` : "No jobs yet."));
    replaceChildren(
      pager,
      h("button", { type: "button", class: "button button--quiet", disabled: state.index === 0, onclick: () => go(state.index - 1) }, "Previous"),
      h("button", { type: "button", class: "button button--quiet", disabled: !page.nextCursor, onclick: () => go(state.index + 1) }, "Next"),
    );
  }

  function go(index) {
    state.index = index;
    state.lastSignature = "";
    load(true).catch(() => {});
  }

  function jobsTable(rows) {
    return h(
      "table",
      { class: "table outcomes-table" },
      h("caption", { class: "visually-hidden" }, "Per-job outcomes"),
      h("thead", {}, h("tr", {}, ["Restaurant", "Outcome", "Why"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        rows.map((j) =>
          h(
            "tr",
            { class: "outcome-row", dataset: { jobId: j.jobId, outcome: j.outcome } },
            h("th", { scope: "row", "data-label": "Restaurant" }, h("a", { href: `#/jobs/${encodeURIComponent(j.jobId)}` }, j.name || j.jobId)),
            h("td", { "data-label": "Outcome" }, chip(j.outcome)),
            h("td", { "data-label": "Why", class: "details-cell" }, j.code ? h("code", {}, j.code) : null, j.code && j.reason ? ": " : "", j.reason || (j.code ? "" : "–")),
          ),
        ),
      ),
    );
  }

  async function cancel() {
    state.cancelling = true;
    cancelButton.disabled = true;
    message.show("info", "Cancelling: no further job will start…");
    try {
      await requests.cancelOperation(id, signal);
      message.show("success", "Cancelled: no further job starts. Runs already started finish.");
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      message.show("error", error.message);
    } finally {
      state.cancelling = false;
      state.lastSignature = "";
      await load(true).catch(() => {});
      poll.kick();
    }
  }

  load(true).catch(() => {});
}
