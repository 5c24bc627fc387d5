// The runs of Step 6 as a timeline: one row per run ("Run 1", "Run 2", …, oldest first) with
// its trigger, actor and outcome, and a bar per sub-step attempt on the run's own time axis
// (0 = the run's start). A failed attempt is marked with ✕ and a hatched bar; a skip is a tick.
// Every bar has a text alternative; the row's summary says the same in words.
import { SUB_STEPS, phaseLabel } from "../catalogue.js";
import { chip, formatDuration, formatTime, h } from "../ui.js";

const TRIGGERS = {
  step5: "Step 5 submitted",
  resume: "resumed",
  redrive: "redriven",
  rerun: "re-run",
  operation: "operation",
  console: "AWS console",
};

const OUTCOME_STATUS = { running: "in_progress", succeeded: "completed", failed: "failed", timed_out: "failed", aborted: "failed" };

function outcomeChip(run) {
  if (run.status === "succeeded" && run.step6Status === "completed_with_errors") return chip("completed_with_errors");
  const status = OUTCOME_STATUS[run.status] || run.status;
  const extra = run.status === "timed_out" ? "timed out" : run.status === "aborted" ? "cancelled" : "";
  return chip(status, { extra });
}

const ms = (iso) => (iso ? new Date(iso).getTime() : null);

function ticks(span) {
  const steps = [0, 0.25, 0.5, 0.75, 1];
  return h(
    "div",
    { class: "run-axis", "aria-hidden": "true" },
    steps.map((f) => h("span", { class: "run-tick", style: `left:${f * 100}%` }, formatDuration(f * span))),
  );
}

function bar(sub, start, span, now) {
  const from = ms(sub.startedAt);
  const to = ms(sub.endedAt) || (sub.status === "in_progress" ? now : from);
  const failed = sub.status === "failed";
  const words = `${sub.name}: ${sub.status.replaceAll("_", " ")}${sub.errorCode ? ` (${sub.errorCode})` : ""}${sub.skipReason ? ` (${sub.skipReason.replaceAll("_", " ")})` : ""}${from !== null && to !== null ? `, ${formatDuration(to - from)}` : ""}${sub.attempts > 1 ? `, attempt ${sub.attempts}` : ""}`;
  let track;
  if (from === null) {
    track = h("span", { class: `run-bar run-bar--${sub.status} run-bar--instant`, style: "left:0%", title: words }, sub.status === "skipped" ? "–" : "");
  } else {
    const left = Math.max(0, ((from - start) / span) * 100);
    const width = Math.max(0.6, ((to - from) / span) * 100);
    track = h("span", { class: `run-bar run-bar--${sub.status}`, style: `left:${left}%;width:${Math.min(width, 100 - left)}%`, title: words }, failed ? h("span", { class: "run-bar-mark", "aria-hidden": "true" }, "✕") : null);
  }
  return h(
    "li",
    { class: `run-lane${failed ? " run-lane--failed" : ""}`, dataset: { subStep: sub.name, status: sub.status } },
    h("span", { class: "run-lane-name" }, sub.name),
    h("span", { class: "run-lane-track" }, track),
    h("span", { class: "visually-hidden" }, words),
  );
}

const ORDER = SUB_STEPS.map((s) => s.name);

/** Lanes in catalogue order (phase by phase), names the catalogue does not know last. */
function inCatalogueOrder(subs) {
  const rank = (name) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return [...subs].sort((a, b) => rank(a.name) - rank(b.name));
}

function runRow(run, now) {
  const start = ms(run.startedAt);
  const end = ms(run.endedAt) || now;
  const times = run.subSteps.flatMap((s) => [ms(s.startedAt), ms(s.endedAt)]).filter((t) => t !== null);
  const last = Math.max(end, ...times);
  const span = Math.max(1, last - start);
  const failedHere = run.subSteps.filter((s) => s.status === "failed").map((s) => s.name);
  const said = [
    `Run ${run.run}`,
    TRIGGERS[run.trigger] || run.trigger,
    run.actor ? `by ${run.actor}` : "",
    run.resumeFrom ? `from ${phaseLabel(run.resumeFrom)}` : "",
  ].filter(Boolean);
  return h(
    "li",
    { class: `run-row run-row--${run.status}`, id: `run-${run.run}`, dataset: { run: String(run.run), status: run.status } },
    h(
      "div",
      { class: "run-head" },
      h("h3", { class: "run-title" }, `Run ${run.run}`),
      h("span", { class: "run-trigger" }, `trigger: ${TRIGGERS[run.trigger] || run.trigger}`),
      h("span", { class: "run-actor" }, `actor: ${run.actor || "unknown"}`),
      run.resumeFrom ? h("span", { class: "muted" }, `from ${phaseLabel(run.resumeFrom)}`) : null,
      outcomeChip(run),
      run.errorCode ? h("span", { class: "tag tag--error" }, run.errorCode) : null,
      h("span", { class: "muted run-when" }, `${formatTime(run.startedAt)} · ${run.endedAt ? formatDuration(end - start) : "running"}`),
    ),
    failedHere.length ? h("p", { class: "run-failure" }, h("span", { "aria-hidden": "true" }, "✕ "), `Failed here: ${failedHere.join(", ")}`) : null,
    run.subSteps.length
      ? h("div", { class: "run-chart" }, ticks(span), h("ol", { class: "run-lanes", "aria-label": `${said.join(", ")}: sub-step attempts` }, inCatalogueOrder(run.subSteps).map((s) => bar(s, start, span, now))))
      : h("p", { class: "hint" }, "No sub-step ran in this run."),
  );
}

/** The runs card's body: runs come newest first from the API and are shown oldest first. */
export function runsTimeline(runs) {
  if (!runs.length) return h("p", { class: "hint" }, "No run of Step 6 yet.");
  const now = Date.now();
  const ordered = [...runs].sort((a, b) => a.run - b.run);
  return [
    h("p", { class: "hint" }, "Each run on its own time axis (from its start). ✕ and a hatched bar: a failed attempt; – : skipped."),
    h("ol", { class: "runs", id: "runs-list" }, ordered.map((r) => runRow(r, now))),
  ];
}
