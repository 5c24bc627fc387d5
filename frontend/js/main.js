// Start-up: sign-in, the session bar and the hash router (#/batches, #/batches/<id>, #/jobs/<id>,
// #/operations, #/operations/<id>).
import { cognitoEnabled, forgetSession, initAuth, session, signInLocal, signOut, startCognitoSignIn } from "./auth.js";
import { h, replaceChildren } from "./ui.js";
import { renderBatches } from "./views/batches.js";
import { renderBatch } from "./views/batch.js";
import { renderJob } from "./views/job.js";
import { renderOperation, renderOperations } from "./views/operations.js";

const main = document.getElementById("main");
let current = null; // {cleanup(), controller}

function route() {
  // "#/batches/<id>?status=failed": the part after "?" is the view's own state (filters, sort).
  const [hash, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [kind, id, ...rest] = hash.split("/").map((p) => decodeURIComponent(p));
  const params = new URLSearchParams(search);
  if (kind === "batches" && id && rest.length === 0) return { view: renderBatch, id, params };
  if (kind === "jobs" && id && rest.length === 0) return { view: renderJob, id };
  if (kind === "batches" && !id) return { view: renderBatches };
  if (kind === "operations" && id && rest.length === 0) return { view: renderOperation, id };
  if (kind === "operations" && !id) return { view: renderOperations };
  return null;
}

function navigate() {
  if (current) {
    current.controller.abort();
    current.cleanup.forEach((fn) => fn());
  }
  if (!session()) {
    current = null;
    renderSignIn();
    return;
  }
  const found = route();
  if (!found) {
    location.replace("#/batches");
    return;
  }
  const controller = new AbortController();
  const cleanup = [];
  current = { controller, cleanup };
  main.replaceChildren();
  found.view(main, {
    id: found.id,
    params: found.params || new URLSearchParams(),
    signal: controller.signal,
    onCleanup: (fn) => cleanup.push(fn),
  });
  // Move focus to the new view's heading, so keyboard and screen-reader users start there.
  const heading = main.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function renderSession() {
  const bar = document.getElementById("session");
  const who = session();
  if (!who) {
    bar.replaceChildren();
    return;
  }
  replaceChildren(
    bar,
    h("span", { class: "session-who" }, "Organisation ", h("strong", {}, who.org || "(unknown)"), who.user ? ` · ${who.user}` : ""),
    h("button", { type: "button", class: "button button--quiet", onclick: signOut }, "Sign out"),
  );
}

function renderSignIn(error = "") {
  document.title = "Sign in · Pumpd onboarding";
  if (cognitoEnabled()) {
    replaceChildren(
      main,
      h("h1", {}, "Sign in"),
      error ? h("p", { class: "message message--error", role: "alert" }, error) : null,
      h("p", {}, "Sign in with your organisation's account to see its registration batches."),
      h("button", { type: "button", class: "button button--primary", onclick: () => startCognitoSignIn() }, "Sign in"),
    );
    return;
  }
  const input = h("input", { id: "org-id", name: "org", type: "text", required: true, autocomplete: "organization", spellcheck: "false", pattern: "[A-Za-z0-9_.\\-]{1,64}", "aria-describedby": "org-id-hint" });
  const userInput = h("input", { id: "user-name", name: "user", type: "text", autocomplete: "username", spellcheck: "false", pattern: "[A-Za-z0-9_.@+\\-]{1,128}", "aria-describedby": "user-name-hint" });
  const form = h(
    "form",
    {
      class: "card signin",
      onsubmit: (event) => {
        event.preventDefault();
        if (signInLocal(input.value, userInput.value)) {
          renderSession();
          if (!location.hash || location.hash === "#") location.hash = "#/batches";
          navigate();
        }
      },
    },
    h("h1", {}, "Sign in (local)"),
    error ? h("p", { class: "message message--error", role: "alert" }, error) : null,
    h("p", { class: "hint" }, "This is the local server: requests are sent as ", h("code", {}, "Bearer local:<org id>"), ". Tip: ", h("code", {}, "?org=<org id>"), " in the address signs in directly."),
    h("div", { class: "field" }, h("label", { for: "org-id" }, "Organisation id"), input, h("p", { class: "hint", id: "org-id-hint" }, "Letters, digits, dot, dash or underscore; up to 64.")),
    h("div", { class: "field" }, h("label", { for: "user-name" }, "Your name (optional)"), userInput, h("p", { class: "hint", id: "user-name-hint" }, "Recorded as the actor of what you do (sent as ", h("code", {}, "Bearer local:<org id>:<name>"), "). Left empty: local-user.")),
    h("button", { type: "submit", class: "button button--primary" }, "Sign in"),
  );
  replaceChildren(main, form);
  input.focus();
}

window.addEventListener("hashchange", navigate);
// The skip link must not change the hash (the hash is the route): move focus instead.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("pumpd:unauthorized", (event) => {
  // Cognito: the token expired or was refused. Locally: the org id is not a valid one.
  if (current) {
    current.controller.abort();
    current.cleanup.forEach((fn) => fn());
    current = null;
  }
  forgetSession();
  renderSession();
  renderSignIn(cognitoEnabled() ? "Your sign-in has expired. Sign in again." : `The server refused this org id: ${event.detail || "sign in again"}.`);
});

const started = await initAuth();
renderSession();
if (!started.signedIn) {
  renderSignIn(started.error || "");
} else {
  if (!route()) history.replaceState(null, "", "#/batches");
  navigate();
}
