// What to do about a failure: a small table from the API's error_code (and the platform's own
// code) to a sentence with the cause and the next step, and which action the page should put
// first. Decided on codes only, never on the words of the error.
import { configFieldsOf, isBlocking } from "../catalogue.js";

/** The platform's own codes the page knows: {cause, fields (config paths to fix)}. */
const PLATFORM_CODES = {
  email_taken: { text: "The platform says this email is already registered — fix the account email, then resume.", fields: ["account.email"], action: "fix" },
};

function list(fields) {
  return fields.length > 1 ? `${fields.slice(0, -1).join(", ")} or ${fields[fields.length - 1]}` : fields[0];
}

const BY_CODE = {
  platform_rejected: (f) => {
    const fields = f.subStep ? configFieldsOf(f.subStep) : [];
    if (fields.length) {
      return { text: `The platform refused ${f.subStep}${f.platformCode ? ` (${f.platformCode})` : ""} — a resume alone will be refused again: check what it reads (${list(fields)}), fix the configuration, then resume.`, fields, action: "fix" };
    }
    return { text: `The platform refused ${f.subStep || "the call"}${f.platformCode ? ` (${f.platformCode})` : ""}, and it reads no configuration — check the restaurant on the platform, then resume${f.subStep && !isBlocking(f.subStep) ? ", or skip it with a reason" : ""}.`, fields: [], action: f.subStep && !isBlocking(f.subStep) ? "skip" : "resume" };
  },
  platform_unavailable: () => ({ text: "The platform was unavailable (it answered with an error or not at all) — resume; it is likely to work now.", fields: [], action: "resume" }),
  interrupted: () => ({ text: "The run was interrupted before the sub-step finished — resume to carry on from where it stopped; nothing done is repeated.", fields: [], action: "resume" }),
  timed_out: () => ({ text: "The sub-step took longer than it is allowed to — resume to try again.", fields: [], action: "resume" }),
  aborted: () => ({ text: "The run was cancelled — resume when you are ready.", fields: [], action: "resume" }),
  output_too_large: () => ({ text: "The sub-step's result was too large to keep — resuming will fail the same way: report it to the developers, or skip it if it is not blocking.", fields: [], action: "skip" }),
  invalid_config: (f) => {
    const fields = f.subStep ? configFieldsOf(f.subStep) : [];
    return { text: `The configuration is not valid for this sub-step — fix ${fields.length ? list(fields) : "the configuration"}, then resume.`, fields, action: "fix" };
  },
  internal_error: () => ({ text: "Something went wrong inside the onboarding service — resume to try again; if it fails the same way, report it.", fields: [], action: "resume" }),
};

/**
 * failure: {errorCode, platformCode, retryable, subStep} (a job's lastFailure or a sub-step).
 * Returns {text, fields: [config paths], action: "fix" | "resume" | "skip"}.
 */
export function adviceFor(failure) {
  const known = failure.platformCode ? PLATFORM_CODES[failure.platformCode] : null;
  if (known) return { ...known };
  const rule = BY_CODE[failure.errorCode];
  if (rule) return rule(failure);
  return failure.retryable
    ? { text: "Resume to try again.", fields: [], action: "resume" }
    : { text: "A plain resume is not expected to help: change something first (the configuration, or the restaurant on the platform), then resume.", fields: [], action: "fix" };
}
