// The HTTP API client (docs/openapi.json). Raw JSON never leaves this module: every answer goes
// through a reader of model.js, and every failure becomes an ApiError whose message is written
// for a person (what happened and what to do) and whose `code` is the API's `error` value.
import { config } from "../config.js";
import { authorizationHeader } from "./auth.js";
import { readBatch, readBatchList, readCancelled, readCreatedBatch, readError, readEvents, readFailures, readJob, readJobPage, readOperation, readOperationJobs, readOperationList, readRerun, readRuns, readSettled, readStarted } from "./model.js";

export class ApiError extends Error {
  /** problem: what readError made of the error body ({code, message, fields, activeExecution}). */
  constructor(status, problem) {
    super(describeError(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.code = problem.code;
    this.activeExecution = problem.activeExecution;
    this.fields = problem.fields; // [{field, message, type, usedBy}]
  }
}

function base() {
  return (config.apiBaseUrl || "").replace(/\/$/, "");
}

const NO_PROBLEM = { code: "", message: "", fields: [], activeExecution: null };

/** The person-facing text of a failed request: decided by the status and the `error` code only. */
export function describeError(status, problem = NO_PROBLEM) {
  const said = problem.message;
  const detail = said ? ` (${said})` : "";
  switch (true) {
    case status === 0:
      return "Could not reach the server. Check the connection, then try again.";
    case status === 400 || status === 422: {
      const why = problem.fields.length ? problem.fields.map((f) => `${f.field}: ${f.message}`).join("; ") : said;
      return `The server did not accept this. ${why}`.trim();
    }
    case status === 401:
      return "You are not signed in, or your sign-in has expired. Sign in again.";
    case status === 403:
      return `You are not allowed to do this${detail}.`;
    case status === 404:
      return "Not found: it does not exist, or it belongs to another organisation.";
    case status === 409 && problem.code === "already_running":
      return "Already running: a Step 6 run is active for this job. Wait for it to finish; the page refreshes by itself.";
    case status === 409 && problem.code === "not_resumable":
      return `Nothing to resume: ${said || "every Step 6 phase is already completed"}.`;
    case status === 409 && problem.code === "step5_completed":
      return "Step 5 is already completed, so its configuration can no longer change. Use Resume Step 6 instead.";
    case status === 409 && problem.code === "not_running":
      return "No run is active any more: it has already ended. The page shows how it ended.";
    case status === 409 && problem.code === "config_in_use": {
      const used = problem.fields.map((f) => `${f.field} (read by ${f.usedBy.join(", ")})`).join("; ");
      return `These fields were already read by completed sub-steps, so they can no longer change: ${used || said}. Re-run those sub-steps instead, if they can be re-run.`;
    }
    case status === 409 && problem.code === "not_rerunnable":
      return `Cannot re-run: ${said || "a sub-step in the selection creates a platform object that must exist once"}.`;
    case status === 409 && problem.code === "not_completed":
      return `Only completed sub-steps can be re-run${detail}. Use Resume Step 6 for the others.`;
    case status === 409 && problem.code === "blocking_sub_step":
      return "This sub-step is blocking: the job cannot go on without it. Fix its cause and resume instead.";
    case status === 409 && problem.code === "not_failed":
      return `Only a failed (or dependency-skipped) sub-step can be skipped${detail}. Reload the job: it may have changed.`;
    case status === 409 && problem.code === "idempotency_conflict":
      return "This request was already sent with other details: reload the page, then start it again.";
    case status === 409 && problem.code === "not_waiting":
      return `This step is not waiting for an answer any more${detail}. The page shows where the job is now.`;
    case status === 409 && problem.code === "step_not_failed":
      return `Only a failed step can be retried${detail}. The page shows where the job is now.`;
    case status === 409 && problem.code === "conflict":
      return "The job changed meanwhile: reload it, then try again.";
    case status === 409:
      return `This cannot be done now${detail}.`;
    case status === 429:
      return "Too many requests just now: wait a moment, then try again.";
    case status === 503:
      return "The run could not be started just now (the workflow service refused). Try again.";
    case status >= 500:
      return `The server had a problem (HTTP ${status})${detail}. Try again in a moment.`;
    default:
      return `The request failed (HTTP ${status})${detail}.`;
  }
}

/** One request; resolves to the parsed JSON answer (private: callers get model.js objects). */
async function call(method, path, body, signal) {
  const headers = { Accept: "application/json" };
  const auth = authorizationHeader();
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${base()}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, NO_PROBLEM);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // not the API's JSON (e.g. a proxy's page): the status says enough
  }
  if (!response.ok) {
    const problem = readError(data);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("pumpd:unauthorized", { detail: problem.message }));
    throw new ApiError(response.status, problem);
  }
  return data;
}

const enc = encodeURIComponent;

/** "?a=1&b=x" from an object, leaving out empty values ("" when nothing is left). */
export function queryString(params) {
  const kept = Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined);
  return kept.length ? `?${new URLSearchParams(kept.map(([k, v]) => [k, String(v)])).toString()}` : "";
}

export const paths = {
  batches: () => "/registration-batches",
  batch: (batchId) => `/registration-batches/${enc(batchId)}`,
  job: (jobId) => `/registration-batches/jobs/${enc(jobId)}`,
  jobEvents: (jobId) => `/registration-batches/jobs/${enc(jobId)}/events`,
  step5: (batchId) => `/registration-batches/${enc(batchId)}/step-5`,
  resumeJob: (jobId) => `/registration-batches/jobs/${enc(jobId)}/resume-step-6`,
  resumeBatch: (batchId) => `/registration-batches/${enc(batchId)}/resume-step-6`,
  jobRuns: (jobId) => `/registration-batches/jobs/${enc(jobId)}/runs`,
  cancelJob: (jobId) => `/registration-batches/jobs/${enc(jobId)}/cancel`,
  jobConfig: (jobId) => `/registration-batches/jobs/${enc(jobId)}/execution-config`,
  rerunJob: (jobId) => `/registration-batches/jobs/${enc(jobId)}/rerun`,
  step2: (jobId) => `/registration-batches/jobs/${enc(jobId)}/step-2`,
  step3: (jobId) => `/registration-batches/jobs/${enc(jobId)}/step-3`,
  retryStep: (jobId, n) => `/registration-batches/jobs/${enc(jobId)}/steps/${enc(n)}/retry`,
  skipSubStep: (jobId, name) => `/registration-batches/jobs/${enc(jobId)}/sub-steps/${enc(name)}/skip`,
  batchJobs: (batchId, query) => `/registration-batches/${enc(batchId)}/jobs${queryString(query)}`,
  failures: (batchId) => `/failures${queryString({ batch_id: batchId })}`,
  operations: (cursor) => `/operations${queryString({ cursor })}`,
  operation: (operationId) => `/operations/${enc(operationId)}`,
  operationJobs: (operationId, query) => `/operations/${enc(operationId)}/jobs${queryString(query)}`,
  cancelOperation: (operationId) => `/operations/${enc(operationId)}/cancel`,
};

/** The API's operations, each answering what model.js reads from the response. */
export const requests = {
  listBatches: (cursor, signal) => call("GET", `${paths.batches()}${queryString({ cursor })}`, undefined, signal).then(readBatchList),
  createBatch: (body, signal) => call("POST", paths.batches(), body, signal).then(readCreatedBatch),
  getBatch: (batchId, signal) => call("GET", paths.batch(batchId), undefined, signal).then(readBatch),
  getJob: (jobId, signal) => call("GET", paths.job(jobId), undefined, signal).then(readJob),
  getJobEvents: (jobId, signal) => call("GET", paths.jobEvents(jobId), undefined, signal).then(readEvents),
  submitStep5: (batchId, body, signal) => call("POST", paths.step5(batchId), body, signal).then(readSettled),
  resumeJob: (jobId, signal) => call("POST", paths.resumeJob(jobId), undefined, signal).then(readStarted),
  resumeBatch: (batchId, body, signal) => call("POST", paths.resumeBatch(batchId), body, signal).then(readSettled),
  getJobRuns: (jobId, signal) => call("GET", paths.jobRuns(jobId), undefined, signal).then(readRuns),
  cancelJob: (jobId, signal) => call("POST", paths.cancelJob(jobId), undefined, signal).then(readCancelled),
  amendConfig: (jobId, body, signal) => call("PATCH", paths.jobConfig(jobId), body, signal).then(readJob),
  rerunJob: (jobId, body, signal) => call("POST", paths.rerunJob(jobId), body, signal).then(readRerun),
  skipSubStep: (jobId, name, body, signal) => call("POST", paths.skipSubStep(jobId, name), body, signal).then(readJob),
  /** Step 2's answer {email, phone}; Step 3's {company_number}; a failed Step 1, 2 or 4 again: each answers the job. */
  answerStep2: (jobId, body, signal) => call("POST", paths.step2(jobId), body, signal).then(readJob),
  answerStep3: (jobId, body, signal) => call("POST", paths.step3(jobId), body, signal).then(readJob),
  retryStep: (jobId, n, signal) => call("POST", paths.retryStep(jobId, n), undefined, signal).then(readJob),
  /** query: {status, current_step, step6_status, failed_phase, failed_sub_step, error_code, resumable, q, sort, order, cursor, limit}. */
  listJobs: (batchId, query, signal) => call("GET", paths.batchJobs(batchId, query), undefined, signal).then(readJobPage),
  listFailures: (batchId, signal) => call("GET", paths.failures(batchId), undefined, signal).then(readFailures),
  startOperation: (body, signal) => call("POST", paths.operations(), body, signal).then(readOperation),
  listOperations: (cursor, signal) => call("GET", paths.operations(cursor), undefined, signal).then(readOperationList),
  getOperation: (operationId, signal) => call("GET", paths.operation(operationId), undefined, signal).then(readOperation),
  getOperationJobs: (operationId, query, signal) => call("GET", paths.operationJobs(operationId, query), undefined, signal).then(readOperationJobs),
  cancelOperation: (operationId, signal) => call("POST", paths.cancelOperation(operationId), undefined, signal).then(readOperation),
};
