// The HTTP API client (DESIGN section 6). Every failure becomes an ApiError whose message is
// written for a person: what happened and what to do.
import { config } from "../config.js";
import { authorizationHeader } from "./auth.js";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }

  /** The API's machine-readable code: `error` in its error body (e.g. "conflict"). */
  get code() {
    return errorCode(this.body);
  }
}

export function errorCode(body) {
  if (!body || typeof body !== "object") return "";
  if (typeof body.error === "string") return body.error;
  return body.code || "";
}

function base() {
  return (config.apiBaseUrl || "").replace(/\/$/, "");
}

/** The server's own words, from whichever field it used. */
export function serverMessage(body) {
  if (!body || typeof body !== "object") return "";
  if (Array.isArray(body.detail)) {
    // Pydantic / Powertools validation errors: [{loc: [...], msg}]
    return body.detail
      .map((d) => {
        const where = (d.loc || []).filter((p) => p !== "body").join(" → ");
        return where ? `${where}: ${d.msg}` : d.msg;
      })
      .join("; ");
  }
  for (const key of ["message", "detail", "reason", "error"]) {
    const value = body[key];
    if (typeof value === "string" && value) return value;
    if (value && typeof value === "object" && typeof value.message === "string") return value.message;
  }
  if (Array.isArray(body.errors)) return body.errors.map((e) => e.message || e.msg || String(e)).join("; ");
  return "";
}

/** Does a 409 or a rejection mean "a run is active" (as opposed to "nothing to resume")? */
export function meansAlreadyRunning(code, text) {
  if (code) return code === "conflict" || code === "already_running";
  return /already (running|active)|run is (already )?active/i.test(text || "");
}

export function describeError(status, body) {
  const said = serverMessage(body);
  const code = errorCode(body);
  const detail = said ? ` (${said})` : "";
  switch (true) {
    case status === 0:
      return "Could not reach the server. Check the connection, then try again.";
    case status === 400 || status === 422:
      return `The server did not accept this. ${said ? `${said.replace(/^invalid request: /, "")}` : ""}`.trim();
    case status === 401:
      return "You are not signed in, or your sign-in has expired. Sign in again.";
    case status === 403:
      return `You are not allowed to do this${detail}.`;
    case status === 404:
      return "Not found: it does not exist, or it belongs to another organisation.";
    case status === 409 && meansAlreadyRunning(code, said):
      return "Already running: a Step 6 run is active for this job. Wait for it to finish; the page refreshes by itself.";
    case status === 409 && code === "not_resumable":
      return `Nothing to resume: ${said || "every Step 6 phase is already completed"}.`;
    case status === 409 && code === "step5_completed":
      return "Step 5 is already completed, so its configuration can no longer change. Use Resume Step 6 instead.";
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

export async function api(method, path, body, { signal } = {}) {
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
    throw new ApiError(0, describeError(0, null), null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text.slice(0, 300) };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, describeError(response.status, data), data);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("pumpd:unauthorized", { detail: serverMessage(data) }));
    throw error;
  }
  return data;
}

const enc = encodeURIComponent;

export const endpoints = {
  batches: () => "/registration-batches",
  batch: (batchId) => `/registration-batches/${enc(batchId)}`,
  job: (jobId) => `/registration-batches/jobs/${enc(jobId)}`,
  jobEvents: (jobId) => `/registration-batches/jobs/${enc(jobId)}/events`,
  step5: (batchId) => `/registration-batches/${enc(batchId)}/step-5`,
  resumeJob: (jobId) => `/registration-batches/jobs/${enc(jobId)}/resume-step-6`,
  resumeBatch: (batchId) => `/registration-batches/${enc(batchId)}/resume-step-6`,
};
