// Steps 1–4 of a job created from a restaurant's website, as components of the job view (data
// in, DOM out; the requests are the caller's): the steps with what each found, a failed step with
// its reason and "Retry Step n", the Step 2 form (contact details), the Step 3 form (the
// company), and the review of what was extracted (menu, branding, contacts, company).
import { chip, h, messageArea, timeElement } from "../ui.js";

const RETRYABLE = [1, 2, 4];

/** Whether the job goes through Steps 1–4 here (a job created with the full form has them provided). */
export function hasPipeline(job) {
  return job.steps.some((s) => s.step <= 4 && (s.status !== "completed" || (s.source && s.source !== "provided"))) || Boolean(job.site || job.step2 || job.step3);
}

function stepOf(job, n) {
  return job.steps.find((s) => s.step === n) || { step: n, name: `Step ${n}`, status: "pending", source: null, completedAt: null };
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What a step found or waits for, in a few words. */
function stepDetail(job, n) {
  const s = stepOf(job, n);
  const failure = job.lastFailure && job.lastFailure.step === n ? job.lastFailure : null;
  if (s.status === "failed") return failure ? `${failure.errorCode || "failed"}: ${failure.error}` : "failed";
  if (s.source === "provided") return "provided with the batch";
  switch (n) {
    case 1:
      if (s.status === "in_progress") return "reading the restaurant's website…";
      if (s.status === "completed" && job.site) return `${job.site.categories} categor${job.site.categories === 1 ? "y" : "ies"}, ${plural(job.site.items, "item")} read${job.site.skippedItems ? ` (${job.site.skippedItems} left out: no price or invalid)` : ""}`;
      return "";
    case 2:
      if (s.status === "in_progress") return "searching the contact details…";
      if (s.status === "action_required" && job.step2) return `waiting for you: ${plural(job.step2.emails.length, "email")} and ${plural(job.step2.phones.length, "phone")} found`;
      if (s.status === "completed") return [job.restaurant.email, job.restaurant.phone].filter(Boolean).join(" · ");
      return "";
    case 3:
      if (s.status === "in_progress") return "searching the company register…";
      if (s.status === "action_required") return job.step3 && job.step3.candidates.length ? `waiting for you: choose among ${plural(job.step3.candidates.length, "candidate")}` : "waiting for you: type the company number";
      if (s.status === "completed" && job.step3 && job.step3.companyNumber) return `company ${job.step3.companyNumber}`;
      return "";
    default:
      if (s.status === "in_progress") return "fetching the company's details…";
      if (s.status === "completed" && job.restaurant.company) return `${job.restaurant.company.name}${job.restaurant.company.number ? ` (${job.restaurant.company.number})` : ""}`;
      return "";
  }
}

/** Steps 1–4, each with its status and what it found: the live part of the view. */
export function pipelineSteps(job) {
  return h(
    "ol",
    { class: "timeline pipeline-steps", id: "pipeline-steps", "aria-label": "Steps 1 to 4" },
    [1, 2, 3, 4].map((n) => {
      const s = stepOf(job, n);
      const detail = stepDetail(job, n);
      const current = n === job.currentStep;
      return h(
        "li",
        { class: `timeline-step timeline-step--${s.status}${current ? " is-current" : ""}`, "aria-current": current ? "step" : false, dataset: { step: String(n), status: s.status } },
        h("span", { class: "timeline-number", "aria-hidden": "true" }, String(n)),
        h(
          "div",
          { class: "timeline-body" },
          h("span", { class: "timeline-name" }, h("span", { class: "visually-hidden" }, `Step ${n}: `), s.name),
          " ",
          chip(s.status, { label: `Step ${n}` }),
          detail ? h("span", { class: "hint block step-detail" }, detail) : null,
          s.completedAt ? h("span", { class: "hint block" }, timeElement(s.completedAt)) : null,
        ),
      );
    }),
  );
}

/** One sentence on where Steps 1–4 stand (the section's live status line). */
export function pipelineSentence(job) {
  if (job.currentStep >= 5) return "Steps 1–4 are done: the restaurant's details are complete.";
  const s = stepOf(job, job.currentStep);
  if (s.status === "failed") return `Step ${s.step} failed: see the reason below.`;
  if (s.status === "action_required") return `Waiting for you at Step ${s.step}: ${s.step === 2 ? "choose the contact details" : "choose the company"} below.`;
  if (job.pipelineRunning || s.status === "in_progress") return `Step ${s.step} (${s.name}) is running. This page refreshes by itself.`;
  return `Step ${s.step} (${s.name}) is ${s.status.replaceAll("_", " ")}.`;
}

/** A failed Step 1–4: the reason, the code and (for Steps 1, 2 and 4) "Retry Step n". `onRetry(n)` resolves when done. */
export function stepFailure(job, onRetry) {
  const failure = job.lastFailure;
  if (!failure || !failure.step || stepOf(job, failure.step).status !== "failed") return null;
  const n = failure.step;
  const retry = RETRYABLE.includes(n)
    ? h(
        "button",
        {
          type: "button",
          id: `retry-step-${n}`,
          class: "button button--primary",
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            button.textContent = `Retrying Step ${n}…`;
            await onRetry(n);
            if (button.isConnected) {
              button.disabled = false;
              button.textContent = `Retry Step ${n}`;
            }
          },
        },
        `Retry Step ${n}`,
      )
    : null;
  const advice = {
    site_unreachable: "The website could not be read. Check the address (or wait until the site is back), then retry.",
    no_menu_found: "The website has no menu the extraction can read (schema.org JSON-LD or microdata). Retrying helps only once the site has one.",
    register_unavailable: "The company register could not be reached. Retry in a moment.",
    register_rejected: "The company register refused the look-up. Check the company number.",
  }[failure.errorCode];
  return h(
    "div",
    { class: "failure", id: "step-failure", dataset: { errorCode: failure.errorCode || "", step: String(n) } },
    h("h3", {}, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), ` Step ${n} failed: ${stepOf(job, n).name}`),
    h("p", { class: "failure-sentence" }, h("span", { class: "error-text", id: "step-failure-reason" }, failure.error)),
    advice ? h("p", { class: "failure-advice" }, h("strong", {}, "What to do: "), advice) : null,
    h("p", { class: "hint failure-meta" }, "Cause: ", h("code", {}, failure.errorCode || "unknown"), " · on ", timeElement(failure.at), failure.retryable ? " · a retry may help" : ""),
    retry ? h("div", { class: "actions-row" }, retry) : null,
  );
}

// ---------------------------------------------------------------- forms

/** A group of radios (one per value, plus "other" with a text input). */
function choiceGroup({ name, legend, values, otherLabel, inputType, selected, otherValue = "", hint = "" }) {
  const errorId = `s${name}-error`;
  const otherId = `${name}-other`;
  const otherInput = h("input", {
    type: inputType,
    id: `${otherId}-value`,
    name: `${name}-other-value`,
    value: otherValue,
    autocomplete: "off",
    "aria-describedby": errorId,
    "aria-label": `${otherLabel} (type it)`,
    oninput: (e) => {
      const radio = e.target.closest("fieldset").querySelector(`#${otherId}`);
      if (radio) radio.checked = true;
    },
  });
  return h(
    "fieldset",
    { class: "group choice-group", id: `${name}-group`, "aria-describedby": errorId },
    h("legend", {}, legend),
    hint ? h("p", { class: "hint" }, hint) : null,
    values.map((v, i) =>
      h(
        "div",
        { class: "check" },
        h("input", { type: "radio", id: `${name}-${i}`, name, value: v.value, checked: selected === v.value }),
        h("label", { for: `${name}-${i}` }, v.label),
      ),
    ),
    h(
      "div",
      { class: "check check--other" },
      h("input", { type: "radio", id: otherId, name, value: "__other__", checked: selected === "__other__" }),
      h("label", { for: otherId }, otherLabel),
    ),
    h("div", { class: "field other-field" }, otherInput),
    h("p", { class: "field-error", id: errorId, role: "alert" }),
  );
}

/** The value a choice group holds: the checked radio's, or the "other" input's. */
function chosen(form, name) {
  const radio = form.querySelector(`input[name="${name}"]:checked`);
  if (!radio) return "";
  if (radio.value === "__other__") return form.elements.namedItem(`${name}-other-value`).value.trim();
  return radio.value;
}

/** Show (or clear) the error of a group: next to its inputs, announced, the group marked invalid. */
function fieldError(form, name, text) {
  const group = form.querySelector(`#${name}-group`);
  const el = form.querySelector(`#s${name}-error`);
  if (!group || !el) return false;
  el.textContent = text || "";
  const other = form.elements.namedItem(`${name}-other-value`);
  if (text) {
    group.setAttribute("aria-invalid", "true");
    if (other) other.setAttribute("aria-invalid", "true");
  } else {
    group.removeAttribute("aria-invalid");
    if (other) other.removeAttribute("aria-invalid");
  }
  return true;
}

/** The focusable control of a group: its checked radio, or its "other" input when that is checked. */
function focusGroup(form, name) {
  const radio = form.querySelector(`input[name="${name}"]:checked`);
  if (radio && radio.value === "__other__") form.elements.namedItem(`${name}-other-value`).focus();
  else if (radio) radio.focus();
  else {
    const first = form.querySelector(`input[name="${name}"]`);
    if (first) first.focus();
  }
}

/**
 * Submit a form's body; on a 422 the API's fields are shown by their groups (`fieldNames` maps
 * the API's field to a group). `onSubmit(body)` resolves to {ok}, {aborted} or {error, fields}.
 */
async function send(form, submit, label, message, body, onSubmit, fieldNames) {
  submit.disabled = true;
  submit.textContent = "Sending…";
  message.show("info", "Sending…");
  const outcome = await onSubmit(body);
  if (outcome.aborted) return;
  if (outcome.ok) {
    message.show("success", outcome.text || "Accepted.");
    return;
  }
  submit.disabled = false;
  submit.textContent = label;
  let first = null;
  for (const f of outcome.fields || []) {
    const key = String(f.field).split(".").pop();
    const group = fieldNames[key];
    if (group && fieldError(form, group, f.message.replace(/^Value error, /, ""))) first = first || group;
  }
  message.show("error", outcome.error);
  if (first) focusGroup(form, first);
  else message.focus();
}

const STEP2_LABEL = "Save contact details";

/** The Step 2 form (contact details): a radio per candidate email and phone, and "other" inputs. */
export function step2Form(job, onSubmit) {
  const c = job.step2 || { emails: [], phones: [], sources: [] };
  const message = messageArea("step2-message");
  const submit = h("button", { type: "submit", id: "step2-submit", class: "button button--primary" }, STEP2_LABEL);
  const sources = c.sources.length ? `Found on: ${c.sources.map((s) => ({ given: "the batch", site: "the website", directory: "the directory" })[s] || s).join(", ")}.` : "Nothing was found.";
  const email = choiceGroup({
    name: "email",
    legend: "Email",
    values: c.emails.map((e) => ({ value: e, label: e })),
    otherLabel: "Another email",
    inputType: "email",
    selected: c.emails.length === 1 ? c.emails[0] : c.emails.length ? "" : "__other__",
    hint: c.emails.length ? "" : "No email was found: type it.",
  });
  const phone = choiceGroup({
    name: "phone",
    legend: "Phone",
    values: c.phones.map((p) => ({ value: p, label: p })),
    otherLabel: "Another phone",
    inputType: "tel",
    selected: c.phones.length === 1 ? c.phones[0] : c.phones.length ? "" : "__other__",
    hint: c.phones.length ? "" : "No phone number was found: type it (e.g. +64 4 555 0101).",
  });
  const form = h(
    "form",
    { id: "step2-form", class: "pipeline-form", novalidate: true, "aria-labelledby": "step2-form-heading", onsubmit: submitted },
    h("h3", { id: "step2-form-heading" }, "Step 2 · Contact details"),
    h("p", { class: "hint" }, `Choose the restaurant's email and phone. ${sources}`),
    h("div", { class: "choice-groups" }, email, phone),
    h("div", { class: "form-actions" }, submit),
    message.el,
  );

  async function submitted(event) {
    event.preventDefault();
    const body = { email: chosen(form, "email"), phone: chosen(form, "phone") };
    fieldError(form, "email", "");
    fieldError(form, "phone", "");
    const missing = [];
    if (!body.email) missing.push(["email", "Choose an email, or type another."]);
    if (!body.phone) missing.push(["phone", "Choose a phone number, or type another."]);
    if (missing.length) {
      for (const [name, text] of missing) fieldError(form, name, text);
      message.show("error", "Some details are missing: see the fields.");
      focusGroup(form, missing[0][0]);
      return;
    }
    await send(form, submit, STEP2_LABEL, message, body, onSubmit, { email: "email", phone: "phone" });
  }

  return form;
}

const STEP3_LABEL = "Choose this company";

/** The Step 3 form (the company): the register's candidates as radios, and "another company number". */
export function step3Form(job, onSubmit) {
  const s3 = job.step3 || { candidates: [], searchError: null, companyNumber: null };
  const message = messageArea("step3-message");
  const submit = h("button", { type: "submit", id: "step3-submit", class: "button button--primary" }, STEP3_LABEL);
  const group = choiceGroup({
    name: "company",
    legend: "Company",
    values: s3.candidates.map((c) => ({
      value: c.companyNumber,
      label: [h("strong", {}, c.name), " ", h("span", { class: "company-number" }, `No. ${c.companyNumber}`), c.address ? h("span", { class: "hint block" }, c.address) : null],
    })),
    otherLabel: "Another company number",
    inputType: "text",
    selected: s3.candidates.length ? "" : "__other__",
    hint: s3.candidates.length ? `${s3.candidates.length} match${s3.candidates.length === 1 ? "" : "es"} for “${job.name}” in the company register, best first.` : "",
  });
  const form = h(
    "form",
    { id: "step3-form", class: "pipeline-form", novalidate: true, "aria-labelledby": "step3-form-heading", onsubmit: submitted },
    h("h3", { id: "step3-form-heading" }, "Step 3 · Company"),
    s3.searchError
      ? h("p", { class: "message message--error", id: "step3-search-error", role: "alert" }, h("span", { class: "message-icon", "aria-hidden": "true" }, "✕"), h("span", {}, `The company register could not be searched: ${s3.searchError}. Type the company number instead.`))
      : null,
    !s3.searchError && !s3.candidates.length ? h("p", { class: "note" }, `The register has no match for “${job.name}”: type the company number.`) : null,
    group,
    h("div", { class: "form-actions" }, submit),
    message.el,
  );

  async function submitted(event) {
    event.preventDefault();
    const number = chosen(form, "company");
    fieldError(form, "company", "");
    if (!number) {
      fieldError(form, "company", "Choose a company, or type its number.");
      message.show("error", "No company chosen: see the field.");
      focusGroup(form, "company");
      return;
    }
    await send(form, submit, STEP3_LABEL, message, { company_number: number }, onSubmit, { company_number: "company" });
  }

  return form;
}

// ---------------------------------------------------------------- review

const priceFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function swatch(label, color) {
  if (!color) return h("div", { class: "swatch-row" }, h("span", { class: "swatch-label" }, label), h("span", { class: "muted" }, "not found"));
  return h(
    "div",
    { class: "swatch-row" },
    h("span", { class: "swatch-label" }, label),
    colored(h("span", { class: "swatch", role: "img", "aria-label": `${label} colour ${color}` }), color),
    h("code", {}, color),
  );
}

/** Styles go through the CSSOM (never a style attribute built from data). */
function colored(el, color) {
  el.style.backgroundColor = color;
  return el;
}

function fontSample(font) {
  const el = h("span", { class: "font-sample" }, "Aa Bb 123");
  el.style.fontFamily = `"${font.replaceAll('"', "")}", serif`;
  return el;
}

function logo(job, url) {
  if (!url) return h("span", { class: "muted" }, "not found");
  const fallback = h("span", { class: "hint", hidden: true }, " (the image could not be loaded here)");
  const img = h("img", {
    class: "logo-preview",
    src: url,
    alt: `Logo of ${job.name}`,
    loading: "lazy",
    referrerpolicy: "no-referrer",
    onerror: (e) => {
      e.target.hidden = true;
      fallback.hidden = false;
    },
  });
  return h("span", { class: "logo-cell" }, img, h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "logo-url" }, url), fallback);
}

function brandingBlock(job) {
  const b = job.restaurant.branding;
  if (!b) return h("p", { class: "hint" }, "No branding yet.");
  return h(
    "dl",
    { class: "facts branding", id: "review-branding" },
    h("div", {}, h("dt", {}, "Colours"), h("dd", {}, swatch("Primary", b.primaryColor), swatch("Secondary", b.secondaryColor))),
    h("div", {}, h("dt", {}, "Logo"), h("dd", {}, logo(job, b.logoUrl))),
    h("div", {}, h("dt", {}, "Font"), h("dd", {}, b.font ? [fontSample(b.font), " ", h("code", {}, b.font)] : h("span", { class: "muted" }, "not found"))),
  );
}

function menuBlock(job) {
  const menu = job.restaurant.menu;
  if (!menu) return h("p", { class: "hint" }, "No menu yet.");
  const count = menu.categories.reduce((n, c) => n + c.items.length, 0);
  return h(
    "div",
    { class: "menu-review", id: "review-menu" },
    h("p", { class: "hint" }, `Menu ${menu.menuId}: ${menu.categories.length} categor${menu.categories.length === 1 ? "y" : "ies"}, ${plural(count, "item")}.`),
    menu.categories.map((cat, i) =>
      h(
        "table",
        { class: "table menu-table", dataset: { category: cat.name } },
        h("caption", { id: `menu-cat-${i}` }, cat.name),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col" }, "Description"), h("th", { scope: "col", class: "num" }, "Price"))),
        h(
          "tbody",
          {},
          cat.items.map((item) => h("tr", {}, h("th", { scope: "row" }, item.name), h("td", {}, item.description || h("span", { class: "muted" }, "–")), h("td", { class: "num price" }, priceFormat.format(item.price)))),
        ),
      ),
    ),
  );
}

function contactsAndCompany(job) {
  const r = job.restaurant;
  const c = r.company;
  return h(
    "dl",
    { class: "facts", id: "review-details" },
    h("div", {}, h("dt", {}, "Website"), h("dd", {}, r.websiteUrl ? h("a", { href: r.websiteUrl, target: "_blank", rel: "noopener noreferrer" }, r.websiteUrl) : "–")),
    h("div", {}, h("dt", {}, "Email"), h("dd", {}, r.email || h("span", { class: "muted" }, "not yet"))),
    h("div", {}, h("dt", {}, "Phone"), h("dd", {}, r.phone || h("span", { class: "muted" }, "not yet"))),
    h("div", {}, h("dt", {}, "Company"), h("dd", { id: "review-company" }, c ? [h("strong", {}, c.name), c.number ? ` · No. ${c.number}` : "", c.address ? h("span", { class: "block" }, c.address) : null, c.directors.length ? h("span", { class: "block hint" }, `Directors: ${c.directors.join(", ")}`) : null] : h("span", { class: "muted" }, "not yet"))),
  );
}

/** What Steps 1–4 extracted, for review: shown once Step 1 completed. */
export function reviewBlock(job) {
  if (stepOf(job, 1).status !== "completed" || !job.restaurant.menu) return null;
  return h(
    "div",
    { class: "review" },
    job.site ? h("p", { class: "hint" }, "Read from ", h("a", { href: job.site.url, target: "_blank", rel: "noopener noreferrer" }, job.site.url), ".") : null,
    h("div", { class: "review-grid" }, h("section", { "aria-labelledby": "review-branding-heading" }, h("h3", { id: "review-branding-heading" }, "Branding"), brandingBlock(job)), h("section", { "aria-labelledby": "review-details-heading" }, h("h3", { id: "review-details-heading" }, "Contacts and company"), contactsAndCompany(job))),
    h("section", { "aria-labelledby": "review-menu-heading" }, h("h3", { id: "review-menu-heading" }, "Menu"), menuBlock(job)),
  );
}

/** Which operator form applies now ("", "step2", "step3") and the key its content depends on. */
export function pipelineFormKey(job) {
  const s2 = stepOf(job, 2).status;
  const s3 = stepOf(job, 3).status;
  if (s2 === "action_required" || (s2 === "failed" && job.step2)) return { kind: "step2", key: `step2|${JSON.stringify(job.step2)}` };
  if (s3 === "action_required") return { kind: "step3", key: `step3|${JSON.stringify(job.step3)}` };
  return { kind: "", key: "" };
}

