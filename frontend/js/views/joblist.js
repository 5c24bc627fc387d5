// The batch view's job list as components: the filter bar (filters, search, sort, page size),
// the compact rows (Steps 1–5 folded, the failed sub-step and its cause), the page line, and
// the view's state read from and written to the address. Data in, DOM out; no requests here.
import { PHASES, SUB_STEPS, phaseLabel, subStepLabel, subStepsOf } from "../catalogue.js";
import { chip, h, timeElement } from "../ui.js";

const JOB_STATUSES = ["pending", "in_progress", "action_required", "completed", "failed"];
const STEP6_STATUSES = ["pending", "in_progress", "completed", "completed_with_errors", "failed"];
const SORTS = [
  ["created", "Created"],
  ["name", "Restaurant name"],
  ["status", "Status"],
  ["updated", "Last update"],
];
const PAGE_SIZES = [50, 100, 200];
export const NO_FILTERS = { status: "", current_step: "", step6_status: "", failed_sub_step: "", error_code: "", q: "" };
const STEP_NUMBERS = ["1", "2", "3", "4", "5", "6"];
const STEP_NAMES = { 1: "Menu & branding", 2: "Contact details", 3: "Company", 4: "Company details", 5: "Step 5 configuration", 6: "Account setup" };

/** The presets of the filter bar: the jobs waiting for the operator at Steps 2 and 3, and the failed extractions. */
export const PRESETS = [
  { id: "preset-step2", label: "Waiting at Step 2", filters: { current_step: "2", status: "action_required" } },
  { id: "preset-step3", label: "Waiting at Step 3", filters: { current_step: "3", status: "action_required" } },
  { id: "preset-step1-failed", label: "Step 1 failed", filters: { current_step: "1", status: "failed" } },
];

function presetActive(filters, preset) {
  return Object.entries(NO_FILTERS).every(([key]) => key === "q" || (filters[key] || "") === (preset.filters[key] || ""));
}

const WORDS = {
  pending: "pending",
  in_progress: "running",
  action_required: "action required",
  completed: "completed",
  completed_with_errors: "completed with errors",
  failed: "failed",
};

function select(id, label, value, options, onChange) {
  return h(
    "div",
    { class: "field field--inline" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, onchange: (e) => onChange(e.target.value) },
      options.map((o) => (o.group ? h("optgroup", { label: o.group }, o.options.map((x) => h("option", { value: x.value, selected: x.value === value }, x.text))) : h("option", { value: o.value, selected: o.value === value }, o.text))),
    ),
  );
}

function subStepOptions() {
  return [{ value: "", text: "any" }, ...PHASES.map((phase) => ({ group: phaseLabel(phase), options: subStepsOf(phase).map((s) => ({ value: s.name, text: `${s.label} (${s.name})` })) }))];
}

/** The filter, search, sort and page-size controls; `on.filter(name, value)`, `on.search(text)`, `on.sort(sort, order)`, `on.limit(n)`. */
export function filterBar(view, errorCodes, on) {
  const f = view.filters;
  const codes = [...new Set([...errorCodes, f.error_code].filter(Boolean))].sort();
  const search = h("input", { type: "search", id: "job-search", value: view.searchText, placeholder: "Restaurant name", autocomplete: "off", oninput: (e) => on.search(e.target.value) });
  const presets = on.preset
    ? h(
        "div",
        { class: "presets", role: "group", "aria-label": "Presets" },
        h("span", { class: "muted" }, "Show:"),
        PRESETS.map((preset) => {
          const active = presetActive(f, preset);
          return h("button", { type: "button", id: preset.id, class: "button button--quiet", "aria-pressed": active ? "true" : "false", onclick: () => on.preset(active ? {} : preset.filters) }, preset.label);
        }),
      )
    : null;
  return h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the jobs", onsubmit: (e) => e.preventDefault() },
    presets,
    h("div", { class: "field field--inline field--search" }, h("label", { for: "job-search" }, "Search"), search),
    select("filter-status", "Status", f.status, [{ value: "", text: "any" }, ...JOB_STATUSES.map((s) => ({ value: s, text: WORDS[s] }))], (v) => on.filter("status", v)),
    select("filter-current-step", "Current step", f.current_step, [{ value: "", text: "any" }, ...STEP_NUMBERS.map((n) => ({ value: n, text: `Step ${n}: ${STEP_NAMES[n]}` }))], (v) => on.filter("current_step", v)),
    select("filter-step6", "Step 6", f.step6_status, [{ value: "", text: "any" }, ...STEP6_STATUSES.map((s) => ({ value: s, text: WORDS[s] }))], (v) => on.filter("step6_status", v)),
    select("filter-sub-step", "Failed sub-step", f.failed_sub_step, subStepOptions(), (v) => on.filter("failed_sub_step", v)),
    select("filter-cause", "Cause", f.error_code, [{ value: "", text: "any" }, ...codes.map((c) => ({ value: c, text: c }))], (v) => on.filter("error_code", v)),
    select("sort-by", "Sort by", view.sort, SORTS.map(([value, text]) => ({ value, text })), (v) => on.sort(v, view.order)),
    select("sort-order", "Order", view.order, [{ value: "asc", text: "ascending" }, { value: "desc", text: "descending" }], (v) => on.sort(view.sort, v)),
    select("page-size", "Per page", String(view.limit), PAGE_SIZES.map((n) => ({ value: String(n), text: String(n) })), (v) => on.limit(Number(v))),
    Object.entries(f).some(([, v]) => v) ? h("button", { type: "button", id: "clear-filters", class: "button button--quiet", onclick: on.clear }, "Clear filters") : null,
  );
}

function miniSteps(job, upTo) {
  return h(
    "ol",
    { class: "mini-steps", "aria-label": `Steps of ${job.name}` },
    job.steps
      .filter((s) => s.step <= upTo)
      .map((s) => h("li", { title: `Step ${s.step}: ${s.name}` }, h("span", { class: "mini-step-number", "aria-hidden": "true" }, String(s.step)), chip(s.status, { short: true, label: `Step ${s.step} ${s.name}` }))),
  );
}

/** Where a job before Step 5 stands: "Now at Step 2 · action required", with a failed step's cause. */
function currentStepLine(job) {
  if (!job.currentStep || job.currentStep >= 5) return null;
  const step = job.steps.find((s) => s.step === job.currentStep);
  const status = step ? step.status : "pending";
  const failed = status === "failed" && job.failedStep === job.currentStep;
  return h(
    "span",
    { class: "current-step block", dataset: { currentStep: String(job.currentStep) } },
    h("strong", {}, `Now at Step ${job.currentStep}`),
    ` · ${STEP_NAMES[job.currentStep]} · ${WORDS[status] || status.replaceAll("_", " ")}`,
    status === "action_required" ? " (waiting for you)" : "",
    failed && (job.errorCode || job.shortError) ? h("span", { class: "cause block" }, job.errorCode ? h("code", {}, job.errorCode) : null, job.errorCode && job.shortError ? ": " : "", job.shortError || "") : null,
  );
}

/** The leading completed steps folded into one chip ("Steps 1–5 ✓" at scale), the rest one chip each; then where a job before Step 5 stands. */
function stepsCell(job) {
  return [stepChips(job), currentStepLine(job)];
}

function stepChips(job) {
  const early = job.steps.filter((s) => s.step <= 5).sort((a, b) => a.step - b.step);
  let done = 0;
  while (done < early.length && early[done].status === "completed") done += 1;
  if (done < 2) return miniSteps(job, 5);
  const rest = early.slice(done);
  return h(
    "span",
    { class: "steps-compact" },
    h(
      "span",
      { class: "chip chip--completed steps-folded", dataset: { status: "completed" }, title: `Steps 1–${done} completed` },
      h("span", { class: "chip-text" }, `Steps 1–${done}`),
      h("span", { class: "chip-icon", "aria-hidden": "true" }, "✓"),
      h("span", { class: "visually-hidden" }, " completed"),
    ),
    rest.length ? h("ol", { class: "mini-steps", "aria-label": `Later steps of ${job.name}` }, rest.map((s) => h("li", { title: `Step ${s.step}: ${s.name}` }, h("span", { class: "mini-step-number", "aria-hidden": "true" }, String(s.step)), chip(s.status, { short: true, label: `Step ${s.step} ${s.name}` })))) : null,
  );
}

function step6Cell(job) {
  const label = job.failedSubStep ? subStepLabel(job.failedSubStep) || job.failedSubStep : "";
  const showCause = job.summary.status === "failed";
  return [
    chip(job.summary.status, { short: true, label: "Step 6" }),
    " ",
    h("span", { class: "phase-text" }, job.summary.text),
    label && showCause ? h("span", { class: "failed-sub-step" }, " · ", h("span", { title: job.failedSubStep }, label)) : null,
    showCause && (job.errorCode || job.shortError)
      ? h("span", { class: "cause block" }, job.errorCode ? h("code", {}, job.errorCode) : null, job.errorCode && job.shortError ? ": " : "", job.shortError || "")
      : null,
    job.resumable && job.resumeFrom && !job.running ? h("span", { class: "hint block" }, `can resume from ${phaseLabel(job.resumeFrom)}`) : null,
  ];
}

/** One job's row; `onToggle(job, checked)`. */
function jobRow(job, checked, locked, onToggle) {
  const boxId = `select-${job.jobId}`;
  return h(
    "tr",
    { dataset: { jobId: job.jobId }, class: "job-row" },
    h(
      "td",
      { class: "col-select" },
      h("input", { type: "checkbox", id: boxId, checked, disabled: locked, dataset: { jobId: job.jobId }, onchange: (e) => onToggle(job, e.target.checked) }),
      h("label", { for: boxId, class: "visually-hidden" }, `Select ${job.name}`),
    ),
    h("th", { scope: "row", "data-label": "Restaurant" }, h("a", { href: `#/jobs/${encodeURIComponent(job.jobId)}` }, job.name)),
    h("td", { "data-label": "Steps 1–5" }, stepsCell(job)),
    h("td", { "data-label": "Step 6", class: "step6-cell" }, step6Cell(job)),
    h("td", { "data-label": "Updated", class: "updated-cell" }, timeElement(job.updatedAt)),
    h("td", { "data-label": "Job" }, chip(job.status, { label: "Job status" })),
  );
}

// The columns a header button sorts by (the same sorts as the "Sort by" select).
const COLUMN_SORTS = { Restaurant: "name", Updated: "updated", Job: "status" };

/** A column header; a sortable one is a button that says its order (aria-sort on the header). */
function columnHeader(title, view, onSort) {
  const sort = COLUMN_SORTS[title];
  if (!sort || !onSort) return h("th", { scope: "col" }, title);
  const current = view.sort === sort;
  const next = current && view.order === "asc" ? "desc" : "asc";
  return h(
    "th",
    { scope: "col", "aria-sort": current ? (view.order === "asc" ? "ascending" : "descending") : false },
    h(
      "button",
      { type: "button", class: "sort-button", dataset: { sort }, onclick: () => onSort(sort, next) },
      title,
      h("span", { class: "sort-mark", "aria-hidden": "true" }, current ? (view.order === "asc" ? " ▲" : " ▼") : " ↕"),
      h("span", { class: "visually-hidden" }, current ? ` (sorted ${view.order === "asc" ? "ascending" : "descending"}; sort ${next === "asc" ? "ascending" : "descending"})` : " (sort)"),
    ),
  );
}

/** The jobs table: `isSelected(jobId)` is read, never changed; changes go to the callbacks. */
export function jobsTable(jobs, isSelected, locked, { onToggle, onTogglePage, view = null, onSort = null }) {
  const columns = ["Restaurant", "Steps 1–5", "Step 6", "Updated", "Job"].map((title) => columnHeader(title, view, view && onSort));
  return h(
    "table",
    { class: "table jobs-table" },
    h("caption", { class: "visually-hidden" }, "Jobs of this batch, this page"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "col-select" }, h("input", { type: "checkbox", id: "select-all", disabled: locked, "aria-label": "Select this page", onchange: (e) => onTogglePage(e.target.checked) })),
        columns,
      ),
    ),
    h(
      "tbody",
      {},
      jobs.map((job) => jobRow(job, locked || isSelected(job.jobId), locked, onToggle)),
    ),
  );
}

/** "Jobs 51–100 of 237 · page 2 of 5" */
export function pageText(index, limit, shown, total) {
  if (!total) return "No jobs match.";
  const first = index * limit + 1;
  return `Jobs ${first}–${first + shown - 1} of ${total} · page ${index + 1} of ${Math.max(1, Math.ceil(total / limit))}`;
}

// ---------------------------------------------------------------- the view's state in the address

/** The view (filters, sort, page size) from the address's parameters; unknown values are dropped. */
export function viewFromParams(params) {
  const one = (name, allowed) => {
    const value = params.get(name) || "";
    return allowed(value) ? value : "";
  };
  const filters = {
    status: one("status", (v) => JOB_STATUSES.includes(v)),
    step6_status: one("step6_status", (v) => STEP6_STATUSES.includes(v)),
    failed_sub_step: one("failed_sub_step", (v) => SUB_STEPS.some((s) => s.name === v)),
    error_code: one("error_code", (v) => /^[a-z][a-z0-9_]{0,63}$/.test(v)),
    current_step: one("current_step", (v) => STEP_NUMBERS.includes(v)),
    q: (params.get("q") || "").slice(0, 200),
  };
  const sort = one("sort", (v) => SORTS.some(([name]) => name === v)) || "created";
  const order = params.get("order") === "desc" ? "desc" : "asc";
  const limit = PAGE_SIZES.includes(Number(params.get("limit"))) ? Number(params.get("limit")) : PAGE_SIZES[0];
  return { filters, searchText: filters.q, sort, order, limit };
}

/** The address of the view: only what differs from the defaults. */
export function viewAddress(batchId, view) {
  const given = Object.entries({ ...view.filters, sort: view.sort === "created" ? "" : view.sort, order: view.order === "asc" ? "" : view.order, limit: view.limit === PAGE_SIZES[0] ? "" : view.limit }).filter(([, v]) => v);
  const search = new URLSearchParams(given.map(([k, v]) => [k, String(v)])).toString();
  return `#/batches/${encodeURIComponent(batchId)}${search ? `?${search}` : ""}`;
}
