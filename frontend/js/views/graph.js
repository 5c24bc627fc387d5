// Step 6 as its dependency graph: an SVG drawn here (no library) of the twelve sub-steps, grouped
// in their four phases, with the catalogue's `depends_on` edges. Each node carries its status as
// a glyph, a word and a border style (never colour alone); a failed node and everything that
// depends on it (what it blocks) are marked. Nodes are focusable buttons: Enter or Space (or a
// click) shows the node's details below the drawing; the arrow keys move between nodes.
import { configFieldsOf, dependenciesOf, dependentsOf, graphColumns, isBlocking, isRerunnable, phaseLabel, phaseTitle, subStep } from "../catalogue.js";
import { formatDuration, formatTime, h, statusText } from "../ui.js";

const SVG_NS = "http://www.w3.org/2000/svg";

const NODE_W = 222;
const NODE_H = 66;
const ROW_GAP = 16;
const COL_GAP = 64; // between columns of one phase
const PHASE_GAP = 40;
const PHASE_PAD = 10;
const PHASE_HEAD = 44;

const GLYPH = { pending: "○", in_progress: "↻", completed: "✓", failed: "✕", skipped: "–" };

/** An SVG element: s("rect", {x: 1}, child, …). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Where each node sits: {positions: Map(name -> {x, y, phase}), phases: [{phase, x, w}], width, height}. */
function layout() {
  const positions = new Map();
  const phases = [];
  let x = 0;
  let tallest = 0;
  for (const { phase, columns } of graphColumns()) {
    const w = columns.length * NODE_W + (columns.length - 1) * COL_GAP + 2 * PHASE_PAD;
    columns.forEach((names, c) => {
      names.forEach((name, r) => {
        positions.set(name, { x: x + PHASE_PAD + c * (NODE_W + COL_GAP), y: PHASE_HEAD + r * (NODE_H + ROW_GAP), phase });
      });
      tallest = Math.max(tallest, names.length);
    });
    phases.push({ phase, x, w });
    x += w + PHASE_GAP;
  }
  const height = PHASE_HEAD + tallest * (NODE_H + ROW_GAP) + PHASE_PAD;
  return { positions, phases, width: x - PHASE_GAP, height };
}

/** The facts the drawing needs: every sub-step of the job by name, what failed, what it blocks. */
export function graphFacts(job) {
  const subs = new Map();
  for (const ph of job.phases) for (const sub of ph.subSteps) subs.set(sub.name, { ...sub, phase: ph.phase });
  const failed = [...subs.values()].filter((sub) => sub.status === "failed").map((sub) => sub.name);
  const blockedBy = new Map(); // name -> the failed sub-steps it waits for
  for (const f of failed) {
    for (const d of dependentsOf(f)) {
      const sub = subs.get(d);
      if (sub && sub.status === "completed") continue;
      blockedBy.set(d, [...(blockedBy.get(d) || []), f]);
    }
  }
  return { subs, failed, blockedBy };
}

function statusLine(sub, blockers) {
  const word = statusText(sub.status);
  if (blockers && blockers.length) return `${GLYPH[sub.status] || "?"} ${word} · ⊘ blocked`;
  if (sub.status === "failed") return `${GLYPH.failed} FAILED${sub.attempts > 1 ? ` · ${sub.attempts} attempts` : ""}`;
  if (sub.status === "skipped" && sub.skipReason) return `${GLYPH.skipped} skipped (${sub.skipReason.replaceAll("_", " ")})`;
  return `${GLYPH[sub.status] || "?"} ${word}`;
}

function nodeLabel(name, sub, blockers) {
  const spec = subStep(name);
  const parts = [`${name}`, spec ? spec.label : "", `${phaseLabel(sub.phase)}`, `status ${statusText(sub.status)}`];
  if (sub.status === "skipped" && sub.skipReason) parts.push(`reason ${sub.skipReason.replaceAll("_", " ")}`);
  if (sub.status === "failed") {
    const blocks = dependentsOf(name);
    parts.push(blocks.length ? `blocks ${blocks.join(", ")}` : "blocks nothing else");
  }
  if (blockers && blockers.length) parts.push(`blocked by failed ${blockers.join(", ")}`);
  const deps = dependenciesOf(name);
  parts.push(deps.length ? `depends on ${deps.join(", ")}` : "depends on nothing");
  if (spec && spec.blocking) parts.push("blocking");
  return parts.filter(Boolean).join("; ");
}

/**
 * The graph card's body. `selected`: the name whose details are shown (or null);
 * `onSelect(name)`: called on Enter, Space or a click.
 */
export function dependencyGraph(job, { selected, onSelect }) {
  const { positions, phases, width, height } = layout();
  const { subs, failed, blockedBy } = graphFacts(job);
  const pad = 6;
  const svg = s("svg", {
    class: "graph",
    id: "step6-graph",
    viewBox: `${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`,
    role: "group",
    "aria-label": `Step 6 dependency graph: ${positions.size} sub-steps in ${phases.length} phases. ${failed.length ? `Failed: ${failed.join(", ")}. ` : ""}Tab to a sub-step, Enter for its details.`,
  });
  svg.append(
    s(
      "defs",
      {},
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow" })),
      s("marker", { id: "arrow-blocked", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow arrow--blocked" })),
    ),
  );

  // Phases: a box with its title, behind everything.
  svg.append(
    s(
      "g",
      { class: "graph-phases", "aria-hidden": "true" },
      phases.map((p) => s("g", { class: "graph-phase", "data-phase": p.phase }, s("rect", { x: p.x, y: 0, width: p.w, height, rx: 8 }), s("text", { x: p.x + PHASE_PAD, y: 17, class: "graph-phase-title" }, phaseLabel(p.phase)), s("text", { x: p.x + PHASE_PAD, y: 33, class: "graph-phase-sub" }, phaseTitle(p.phase)))),
    ),
  );

  // Edges: from each dependency's right side to the dependent's left side.
  const edges = [];
  for (const [name, to] of positions) {
    for (const dep of dependenciesOf(name)) {
      const from = positions.get(dep);
      if (!from) continue;
      const x1 = from.x + NODE_W;
      const y1 = from.y + NODE_H / 2;
      const x2 = to.x - 2;
      const y2 = to.y + NODE_H / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      const blocked = blockedBy.has(name) && (failed.includes(dep) || blockedBy.has(dep));
      edges.push(
        s(
          "path",
          { class: `graph-edge${blocked ? " graph-edge--blocked" : ""}`, d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, "marker-end": blocked ? "url(#arrow-blocked)" : "url(#arrow)", "data-from": dep, "data-to": name },
          s("title", {}, `${name} depends on ${dep}`),
        ),
      );
    }
  }
  svg.append(s("g", { class: "graph-edges", "aria-hidden": "true" }, edges));

  // Nodes.
  const order = [...positions.keys()];
  const nodes = order.map((name) => {
    const at = positions.get(name);
    const sub = subs.get(name) || { name, status: "pending", attempts: 0, phase: at.phase };
    const blockers = blockedBy.get(name) || null;
    const spec = subStep(name);
    const classes = ["graph-node", `graph-node--${sub.status}`];
    if (blockers) classes.push("graph-node--blocked");
    if (sub.status === "failed") classes.push("graph-node--failed-mark");
    if (selected === name) classes.push("is-selected");
    const select = () => onSelect(name);
    return s(
      "g",
      {
        class: classes.join(" "),
        id: `graph-node-${name}`,
        transform: `translate(${at.x},${at.y})`,
        tabindex: 0,
        role: "button",
        "aria-pressed": selected === name ? "true" : "false",
        "aria-label": nodeLabel(name, sub, blockers),
        "data-sub-step": name,
        "data-status": sub.status,
        "data-blocked": blockers ? "true" : "false",
        onclick: select,
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select();
            return;
          }
          const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
          if (!step) return;
          event.preventDefault();
          const next = order[(order.indexOf(name) + step + order.length) % order.length];
          const el = document.getElementById(`graph-node-${next}`);
          if (el) el.focus();
        },
      },
      s("rect", { class: "graph-node-box", width: NODE_W, height: NODE_H, rx: 7 }),
      sub.status === "failed" || blockers ? s("rect", { class: "graph-node-flag", width: 6, height: NODE_H - 8, x: 4, y: 4, rx: 2 }) : null,
      s("text", { x: 14, y: 20, class: "graph-node-name" }, name),
      s("text", { x: 14, y: 37, class: "graph-node-label" }, `${spec ? spec.label : ""}${spec && spec.blocking ? " · blocking" : ""}`),
      s("text", { x: 14, y: 56, class: "graph-node-status" }, statusLine(sub, blockers)),
    );
  });
  svg.append(s("g", { class: "graph-nodes" }, nodes));

  const legend = h(
    "ul",
    { class: "graph-legend", "aria-label": "Legend" },
    ["completed", "failed", "skipped", "in_progress", "pending"].map((st) => h("li", { class: `legend legend--${st}` }, h("span", { class: "legend-swatch", "aria-hidden": "true" }), `${GLYPH[st]} ${statusText(st)}`)),
    h("li", { class: "legend legend--blocked" }, h("span", { class: "legend-swatch", "aria-hidden": "true" }), "⊘ blocked by a failure"),
    h("li", { class: "legend" }, "→ depends on (arrow points to the dependent)"),
  );

  const details = h("div", { id: "graph-details", class: "graph-details", role: "region", "aria-live": "polite", "aria-label": "Sub-step details" }, selected ? nodeDetails(selected, subs.get(selected), blockedBy.get(selected)) : h("p", { class: "hint" }, "Select a sub-step (Tab to it, then Enter) to see its details."));
  return h("div", { class: "graph-wrap" }, legend, h("div", { class: "graph-scroll" }, svg), details);
}

function nodeDetails(name, sub, blockers) {
  const spec = subStep(name);
  const info = sub || { status: "pending", attempts: 0 };
  const deps = dependenciesOf(name);
  const blocks = dependentsOf(name);
  const fields = configFieldsOf(name);
  const rows = [
    ["Status", `${GLYPH[info.status] || "?"} ${statusText(info.status)}${info.skipReason ? ` (${info.skipReason.replaceAll("_", " ")})` : ""}`],
    ["Attempts", String(info.attempts || 0)],
    info.durationMs !== null && info.durationMs !== undefined ? ["Duration", formatDuration(info.durationMs)] : null,
    info.finishedAt ? ["Finished", formatTime(info.finishedAt)] : null,
    info.error ? ["Error", info.error] : null,
    info.errorCode ? ["Error code", `${info.errorCode}${info.platformCode ? ` (platform: ${info.platformCode})` : ""}`] : null,
    info.skipNote ? ["Skip note", `${info.skipNote}${info.skippedBy ? ` — by ${info.skippedBy}` : ""}`] : null,
    blockers && blockers.length ? ["Blocked by", blockers.join(", ")] : null,
    info.blockedBy && info.blockedBy.length ? ["Skipped because of", info.blockedBy.join(", ")] : null,
    ["Depends on", deps.length ? deps.join(", ") : "nothing"],
    ["Needed by", blocks.length ? blocks.join(", ") : "nothing"],
    ["Reads config", fields.length ? fields.join(", ") : "nothing"],
    ["Kind", `${isBlocking(name) ? "blocking" : "non-blocking"}, ${isRerunnable(name) ? "re-runnable" : "not re-runnable"}`],
  ].filter(Boolean);
  return [
    h("h3", {}, h("span", { class: "substep-name" }, name), spec ? ` · ${spec.label}` : ""),
    h(
      "dl",
      { class: "facts facts--compact" },
      rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
    ),
  ];
}
