// Reading the API's job and batch shapes (DESIGN section 6) in one place, tolerant of optional
// fields, so the views never guess.
import { PHASES, STEP_NAMES, SUB_STEP_BY_NAME, phaseLabel, subStepsOf } from "./catalogue.js";

export function restaurantName(job) {
  return job.restaurant_name || (job.restaurant && job.restaurant.name) || job.name || job.job_id;
}

/** Steps 1–6 as [{step, name, status}], whatever the API left out. */
export function steps(job) {
  const given = Array.isArray(job.steps) ? job.steps : [];
  return [1, 2, 3, 4, 5, 6].map((n) => {
    const s = given.find((x) => Number(x.step) === n) || {};
    return { ...s, step: n, name: s.name || STEP_NAMES[n], status: s.status || "pending" };
  });
}

export function step(job, n) {
  return steps(job)[n - 1];
}

export function step6(job) {
  return job.step6 || job.step_6 || {};
}

/** The Step 6 progress: current_phase, last_completed_phase, phases → phaseN → {status, sub_steps}. */
export function progress(job) {
  const s6 = step6(job);
  return s6.sub_step_progress || job.sub_step_progress || job.step6_progress || s6.progress || {};
}

export function step6Status(job) {
  return step6(job).status || step(job, 6).status;
}

/** A Step 6 run is active: nothing may start another one. */
export function isRunning(job) {
  return Boolean(job.active_execution) || job.status === "in_progress" || step6Status(job) === "in_progress";
}

export function lastFailure(job) {
  return job.last_failure || step6(job).last_failure || null;
}

export function currentPhase(job) {
  const p = progress(job);
  return p.current_phase || step6(job).current_phase || job.current_phase || null;
}

/** The phases with their sub-steps, in catalogue order, filled in where the API has no entry. */
export function phases(job) {
  const p = progress(job).phases || {};
  const summary = step6(job).phases || {}; // batch rows: phaseN -> status only
  return PHASES.map((phase) => {
    const given = p[phase] || (typeof summary[phase] === "string" ? { status: summary[phase] } : {});
    const subs = given.sub_steps || {};
    const names = [...subStepsOf(phase).map((s) => s.name), ...Object.keys(subs).filter((n) => !SUB_STEP_BY_NAME[n])];
    return {
      phase,
      status: given.status || "pending",
      subSteps: names.map((name) => ({ name, spec: SUB_STEP_BY_NAME[name] || null, ...(subs[name] || { status: "pending", attempts: 0 }) })),
    };
  });
}

/** Where Step 6 stands, in a few words: "in Phase 2", "failed at Phase 2", … */
export function phaseSummary(job) {
  const s6 = step6Status(job);
  const failure = lastFailure(job);
  if (isRunning(job)) {
    const current = currentPhase(job);
    return { status: "in_progress", text: current ? `in ${phaseLabel(current)}` : "starting" };
  }
  if (failure && (s6 === "failed" || job.status === "action_required" || job.status === "failed")) {
    return { status: "failed", text: failure.phase ? `failed at ${phaseLabel(failure.phase)}` : "failed" };
  }
  if (s6 === "completed") {
    const withErrors = phases(job).some((ph) => ph.status === "completed_with_errors");
    return withErrors
      ? { status: "completed_with_errors", text: "completed with errors" }
      : { status: "completed", text: "all 4 phases done" };
  }
  if (step(job, 5).status !== "completed") return { status: "pending", text: "waits for Step 5" };
  return { status: s6 || "pending", text: "not started" };
}

export function batchJobs(batch) {
  return Array.isArray(batch.jobs) ? batch.jobs : [];
}

/** The batch list answer: a bare array or {batches: [...]}/{items: [...]}. */
export function batchList(data) {
  if (Array.isArray(data)) return data;
  return (data && (data.batches || data.items || data.registration_batches)) || [];
}

export function jobCounts(batch) {
  if (batch.job_counts && typeof batch.job_counts === "object") return batch.job_counts;
  const counts = {};
  for (const job of batchJobs(batch)) counts[job.status] = (counts[job.status] || 0) + 1;
  return counts;
}

export function batchId(batch) {
  return batch.batch_id || batch.id;
}
