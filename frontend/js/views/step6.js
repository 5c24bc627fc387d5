// The Step 6 part of the job view, as components: each takes the job (as model.js reads it) and
// a few plain values, and returns DOM or text. They keep no state: the controller (job.js) does.
import { phaseLabel, phaseNumber, phaseTitle, subStep } from "../catalogue.js";
import { chip, formatDuration, formatTime, h } from "../ui.js";

const SKIP_WORDS = {
  disabled: "Disabled: switched off in the Step 5 configuration.",
  dependency_not_met: "Dependency not met: a sub-step it needs did not succeed. Planned again on resume.",
};

function withErrors(job) {
  return job.phases.some((p) => p.status === "completed_with_errors");
}

/** The banner while a run is active: {className, content}. */
export function runningBanner(job, resumingFrom) {
  const now = job.currentPhase ? `${phaseLabel(job.currentPhase)} is running` : "starting";
  return {
    className: "run-status run-status--running",
    content: [
      h("span", { class: "spinner", "aria-hidden": "true" }, "↻"),
      resumingFrom ? h("strong", {}, `Resuming from ${phaseLabel(resumingFrom)}`) : h("strong", {}, "Step 6 is running"),
      ` — ${now}. This page refreshes by itself.`,
    ],
  };
}

/** The banner once a run the page saw has ended: {className, text}. */
export function finishedBanner(job, resumingFrom) {
  const failure = job.lastFailure;
  const done = job.step6Status === "completed";
  const outcome = done ? (withErrors(job) ? "Step 6 completed with errors" : "Step 6 completed") : `Step 6 stopped${failure && failure.phase ? ` at ${phaseLabel(failure.phase)}` : ""}`;
  const from = resumingFrom ? `Resumed from ${phaseLabel(resumingFrom)}: ` : "";
  return { className: `run-status run-status--${done ? "done" : "failed"}`, text: `${from}${outcome}.` };
}

/** last_failure, stated plainly (null when there is none). */
export function failureNotice(job, running) {
  const failure = job.lastFailure;
  if (!failure) return null;
  const spec = failure.subStep ? subStep(failure.subStep) : null;
  const where = [failure.phase ? `${phaseLabel(failure.phase)} (${phaseTitle(failure.phase)})` : "", failure.subStep ? `sub-step ${failure.subStep}${spec ? ` (${spec.label})` : ""}` : ""].filter(Boolean).join(", ");
  const resolved = job.step6Status === "completed" || running;
  return h(
    "div",
    { class: `failure${resolved ? " failure--past" : ""}` },
    h("h3", {}, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), resolved ? " Previous failure" : " Last failure"),
    h("p", {}, `Step 6 failed${where ? ` in ${where}` : ""} on ${formatTime(failure.at)}.`),
    h("p", {}, "Error: ", h("span", { class: "error-text" }, failure.error)),
    failure.execution ? h("p", { class: "hint" }, "Execution: ", h("code", {}, failure.execution)) : null,
  );
}

/** The Resume button's state: {disabled, hint}. */
export function resumeState(job, { running, shown, requesting }) {
  const disabled = running || requesting || !job.resumable;
  let hint;
  if (!shown) hint = job.step5Status === "completed" || running ? "" : "Submit Step 5 to start Step 6.";
  else if (requesting) hint = "Asking the server to resume…";
  else if (running) hint = "A Step 6 run is active, so Resume is disabled until it ends.";
  else if (job.resumeFrom) hint = `Continues from Phase ${phaseNumber(job.resumeFrom)}. Completed sub-steps are not run again.`;
  else hint = "Retries the sub-steps that did not succeed.";
  return { disabled, hint };
}

function subStepRow(sub) {
  const spec = subStep(sub.name);
  const details = sub.error ? h("span", { class: "error-text" }, sub.error) : sub.skipReason ? SKIP_WORDS[sub.skipReason] || `Skipped: ${sub.skipReason}.` : "–";
  return h(
    "tr",
    { dataset: { subStep: sub.name, status: sub.status } },
    h("th", { scope: "row", "data-label": "Sub-step" }, h("span", { class: "substep-name" }, sub.name), spec ? h("span", { class: "hint block" }, spec.label + (spec.blocking ? " · blocking" : "")) : null),
    h("td", { "data-label": "Status" }, chip(sub.status)),
    h("td", { "data-label": "Attempts" }, String(sub.attempts)),
    h("td", { "data-label": "Duration" }, formatDuration(sub.durationMs)),
    h("td", { "data-label": "Details", class: sub.error || sub.skipReason ? "details-cell" : "details-cell is-empty" }, details),
  );
}

/** One phase with its sub-steps. */
export function phaseSection(ph, job, running) {
  const n = phaseNumber(ph.phase);
  const isResumePoint = !running && job.resumable && job.resumeFrom === ph.phase;
  const isCurrent = running && job.currentPhase === ph.phase;
  const headers = ["Sub-step", "Status", "Attempts", "Duration", "Error or skip reason"].map((title) => h("th", { scope: "col" }, title));
  return h(
    "section",
    { class: `phase phase--${ph.status}`, id: `phase-${n}`, "aria-labelledby": `phase-${n}-heading`, dataset: { phase: ph.phase, status: ph.status } },
    h(
      "div",
      { class: "phase-head" },
      h("h3", { id: `phase-${n}-heading` }, `Phase ${n} · ${phaseTitle(ph.phase)}`),
      chip(ph.status, { label: `Phase ${n}` }),
      isResumePoint ? h("span", { class: "tag" }, "a resume starts here") : null,
      isCurrent ? h("span", { class: "tag tag--running" }, "running now") : null,
    ),
    h(
      "table",
      { class: "table substeps-table" },
      h("caption", { class: "visually-hidden" }, `Sub-steps of Phase ${n}`),
      h("thead", {}, h("tr", {}, headers)),
      h("tbody", {}, ph.subSteps.map(subStepRow)),
    ),
  );
}
