// The Step 6 part of the job view, as components: each takes the job (as model.js reads it) and
// a few plain values, and returns DOM or text. They keep no state: the controller (job.js) does.
import { phaseLabel, phaseNumber, phaseTitle, subStep } from "../catalogue.js";
import { chip, formatDuration, h, timeElement } from "../ui.js";
import { adviceFor } from "./advice.js";

const SKIP_WORDS = {
  disabled: "Disabled: switched off in the Step 5 configuration.",
  dependency_not_met: "Dependency not met: a sub-step it needs did not succeed. Planned again on resume.",
  operator: "Skipped by an operator, for good.",
};

function withErrors(job) {
  return job.step6Status === "completed_with_errors";
}

function step6Done(job) {
  return job.step6Status === "completed" || job.step6Status === "completed_with_errors";
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
  const done = step6Done(job);
  const outcome = done ? (withErrors(job) ? "Step 6 completed with errors" : "Step 6 completed") : `Step 6 stopped${failure && failure.phase ? ` at ${phaseLabel(failure.phase)}` : ""}`;
  const from = resumingFrom ? `Resumed from ${phaseLabel(resumingFrom)}: ` : "";
  return { className: `run-status run-status--${done ? "done" : "failed"}`, text: `${from}${outcome}.` };
}

/**
 * last_failure, around which the view is drawn: where, the error in a sentence, what to do
 * (advice from error_code/platform_code) and the codes. Returns {el, advice} (both null when
 * there is no failure); advice.action says which action to put first.
 */
export function failureCard(job, running) {
  const failure = job.lastFailure;
  if (!failure) return { el: null, advice: null };
  const spec = failure.subStep ? subStep(failure.subStep) : null;
  const where = [failure.phase ? `${phaseLabel(failure.phase)} (${phaseTitle(failure.phase)})` : "", failure.subStep ? `sub-step ${failure.subStep}${spec ? ` (${spec.label})` : ""}` : ""].filter(Boolean).join(", ");
  const resolved = job.step6Status === "completed" || running;
  const advice = resolved ? null : adviceFor(failure);
  const title = failure.subStep ? `${failure.subStep}${spec ? ` · ${spec.label}` : ""} failed` : "Step 6 failed";
  const el = h(
    "div",
    { class: `failure${resolved ? " failure--past" : ""}`, dataset: { errorCode: failure.errorCode || "" } },
    h("h3", {}, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), resolved ? ` Previous failure: ${title}` : ` ${title}`),
    h("p", { class: "failure-sentence" }, h("span", { class: "error-text" }, failure.error)),
    advice
      ? h(
          "p",
          { class: "failure-advice", id: "failure-advice" },
          h("strong", {}, "What to do: "),
          advice.text,
          advice.fields.length ? h("span", { class: "block hint" }, "It reads: ", advice.fields.map((f, i) => [i ? ", " : "", h("code", {}, f)])) : null,
        )
      : null,
    h(
      "p",
      { class: "hint failure-meta" },
      `Step 6 failed${where ? ` in ${where}` : ""} on `,
      timeElement(failure.at),
      ". ",
      failure.errorCode ? ["Cause: ", h("code", {}, failure.errorCode), failure.platformCode ? [" · platform: ", h("code", {}, failure.platformCode)] : null, ` · ${failure.retryable ? "a plain resume may help" : "change something before resuming"}. `] : null,
    ),
    failure.execution ? h("p", { class: "hint failure-execution" }, "Execution: ", h("code", {}, failure.execution), failure.executionError ? ` (${failure.executionError})` : "") : null,
  );
  return { el, advice };
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
  let details = "–";
  if (sub.error) details = [h("span", { class: "error-text" }, sub.error), sub.errorCode ? h("span", { class: "hint block" }, `code ${sub.errorCode}${sub.platformCode ? ` · platform ${sub.platformCode}` : ""}`) : null];
  else if (sub.skipReason) {
    details = [SKIP_WORDS[sub.skipReason] || `Skipped: ${sub.skipReason}.`, sub.blockedBy.length ? ` Waits for ${sub.blockedBy.join(", ")}.` : "", sub.skipNote ? h("span", { class: "hint block" }, `“${sub.skipNote}”${sub.skippedBy ? ` — ${sub.skippedBy}` : ""}`) : null];
  }
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
