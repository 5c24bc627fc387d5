// Small DOM helpers: element building (text only, never HTML strings from data), status chips,
// formatting, announcements and polling with backoff.

/**
 * h("button", {class: "x", onclick: fn, disabled: true}, "text", child, [more])
 * Attribute values of false/null/undefined are left out; children may be nested arrays.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value; // properties such as checked, disabled, value
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `el`, keeping keyboard focus on the element with the same id. */
export function replaceChildren(el, ...children) {
  const active = document.activeElement;
  const focusedId = active && el.contains(active) ? active.id : null;
  el.replaceChildren();
  append(el, children);
  if (focusedId) {
    const again = document.getElementById(focusedId);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

// ------------------------------------------------------------------ statuses

// Every status has a word and a glyph (and its own border style in app.css): never colour alone.
const STATUS = {
  pending: { icon: "○", text: "pending", short: "pending" },
  in_progress: { icon: "↻", text: "running", short: "running" },
  action_required: { icon: "!", text: "action required", short: "action" },
  completed: { icon: "✓", text: "completed", short: "done" },
  completed_with_errors: { icon: "✓!", text: "completed with errors", short: "errors" },
  failed: { icon: "✕", text: "failed", short: "failed" },
  skipped: { icon: "–", text: "skipped", short: "skipped" },
  // Bulk operations and their per-job outcomes.
  queued: { icon: "○", text: "queued", short: "queued" },
  running: { icon: "↻", text: "running", short: "running" },
  succeeded: { icon: "✓", text: "succeeded", short: "succeeded" },
  rejected: { icon: "⊘", text: "rejected", short: "rejected" },
  cancelled: { icon: "■", text: "cancelled", short: "cancelled" },
};

export function statusText(status) {
  return (STATUS[status] || { text: String(status || "unknown").replaceAll("_", " ") }).text;
}

/** A status chip: glyph + word. `extra` is appended to the word (e.g. a skip reason). */
export function chip(status, { extra = "", short = false, label = "", count = null } = {}) {
  const s = STATUS[status] || { icon: "?", text: statusText(status), short: statusText(status) };
  const word = (count === null ? "" : `${count} `) + (short ? s.short : s.text) + (extra ? ` (${extra})` : "");
  return h(
    "span",
    { class: `chip chip--${status || "unknown"}`, dataset: { status: status || "unknown" } },
    h("span", { class: "chip-icon", "aria-hidden": "true" }, s.icon),
    label ? h("span", { class: "visually-hidden" }, `${label}: `) : null,
    h("span", { class: "chip-text" }, word),
  );
}

// ------------------------------------------------------------------ formatting

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateFormat.format(d);
}

export function timeElement(iso) {
  return iso ? h("time", { datetime: iso }, formatTime(iso)) : "–";
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

// ------------------------------------------------------------------ announcements

let announceTimer = null;

/** Tell screen-reader users something without moving focus (the #announcer live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = "";
  // A short gap makes repeated identical messages get announced again.
  announceTimer = setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/**
 * A visible message area that is itself a live region. kind: "info" | "success" | "error".
 * Errors use role="alert" so they are announced at once.
 */
export function messageArea(id) {
  const el = h("div", { id, class: "message", role: "status", "aria-live": "polite", tabindex: "-1" });
  return {
    el,
    /** Keep keyboard focus somewhere sensible while the control that had it is disabled. */
    focus() {
      el.focus({ preventScroll: false });
    },
    show(kind, text, ...more) {
      el.setAttribute("role", kind === "error" ? "alert" : "status");
      el.className = `message message--${kind}`;
      replaceChildren(
        el,
        h("span", { class: "message-icon", "aria-hidden": "true" }, kind === "error" ? "✕" : kind === "success" ? "✓" : "i"),
        h("span", { class: "message-text" }, text, ...more),
      );
    },
    clear() {
      el.className = "message";
      el.replaceChildren();
    },
  };
}

// ------------------------------------------------------------------ polling

/**
 * Poll `tick` with backoff while it reports that something is running.
 * tick() resolves to {running: bool, changed: bool}; a rejection counts as "still running,
 * unchanged" so a flaky network slows the polling down instead of stopping it.
 * The delay grows by `factor` up to `maxMs` while nothing changes, and drops back to
 * `initialMs` when something changes or `kick()` is called (e.g. after a user action).
 */
export function makePoller(tick, { initialMs = 1000, factor = 1.5, maxMs = 10000 } = {}) {
  let timer = null;
  let delay = initialMs;
  let stopped = false;
  let inFlight = false;

  async function run() {
    timer = null;
    if (stopped || inFlight) return;
    if (document.hidden) {
      // Nobody is looking: wait (slowly) until the tab is visible again.
      timer = setTimeout(run, maxMs);
      return;
    }
    inFlight = true;
    let result;
    try {
      result = await tick();
    } catch {
      result = { running: true, changed: false };
    } finally {
      inFlight = false;
    }
    if (stopped) return;
    schedule(result);
  }

  function schedule(result) {
    clearTimeout(timer);
    timer = null;
    if (!result.running) {
      delay = initialMs;
      return;
    }
    delay = result.changed ? initialMs : Math.min(maxMs, Math.round(delay * factor));
    timer = setTimeout(run, delay);
  }

  // Coming back to the tab refreshes at once if polling is under way.
  const onVisible = () => {
    if (!document.hidden && timer && !stopped) {
      clearTimeout(timer);
      delay = initialMs;
      timer = setTimeout(run, 0);
    }
  };
  document.addEventListener("visibilitychange", onVisible);

  return {
    /** After a render: keep polling if something runs (reset the backoff if it changed). */
    update(result) {
      if (!stopped && !inFlight) schedule(result);
    },
    kick() {
      if (stopped) return;
      clearTimeout(timer);
      delay = initialMs;
      timer = setTimeout(run, initialMs);
    },
    get delay() {
      return timer ? delay : null;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    },
  };
}
