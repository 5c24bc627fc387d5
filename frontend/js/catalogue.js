// Helpers over the six steps and the Step 6 sub-step catalogue. The data itself is generated
// from the Python declarations (catalogue.gen.js, `make catalogue`): nothing is copied here.
import { CATALOGUE } from "./catalogue.gen.js";

const BY_NAME = new Map(CATALOGUE.sub_steps.map((s) => [s.name, s]));
const PHASE_BY_NAME = new Map(CATALOGUE.phases.map((p) => [p.phase, p]));

/** The phase names in order: ["phase1", …, "phase4"]. */
export const PHASES = CATALOGUE.phases.map((p) => p.phase);

/** Every sub-step, in catalogue order: {name, phase, label, blocking, depends_on, runs_if, …}. */
export const SUB_STEPS = CATALOGUE.sub_steps;

export function stepName(n) {
  const found = CATALOGUE.steps.find((s) => s.step === n);
  return found ? found.name : `Step ${n}`;
}

/** The catalogue entry of a sub-step, or null for a name the catalogue does not know. */
export function subStep(name) {
  return BY_NAME.get(name) || null;
}

export function subStepsOf(phase) {
  return SUB_STEPS.filter((s) => s.phase === phase);
}

/** The names of a phase's sub-steps, in catalogue order. */
export function subStepNames(phase) {
  return subStepsOf(phase).map((s) => s.name);
}

export function phaseTitle(phase) {
  const found = PHASE_BY_NAME.get(phase);
  return found ? found.title : phase;
}

/** "phase2" -> 2 (null for anything else). */
export function phaseNumber(phase) {
  const found = PHASE_BY_NAME.get(phase);
  return found ? found.number : null;
}

/** "phase2" -> "Phase 2" ("" for anything else). */
export function phaseLabel(phase) {
  const n = phaseNumber(phase);
  return n ? `Phase ${n}` : "";
}

// ------------------------------------------------------------------ the dependency graph

/** The sub-steps `name` depends on directly (catalogue `depends_on`). */
export function dependenciesOf(name) {
  const spec = subStep(name);
  return spec ? [...spec.depends_on] : [];
}

/** Every sub-step that depends on `name`, directly or through others, in catalogue order. */
export function dependentsOf(name) {
  const found = new Set();
  let frontier = [name];
  while (frontier.length) {
    const next = [];
    for (const spec of SUB_STEPS) {
      if (found.has(spec.name)) continue;
      if (spec.depends_on.some((d) => frontier.includes(d))) {
        found.add(spec.name);
        next.push(spec.name);
      }
    }
    frontier = next;
  }
  return SUB_STEPS.map((s) => s.name).filter((n) => found.has(n));
}

/** The names and every sub-step depending on them (what a re-run resets), in catalogue order. */
export function rerunClosure(names) {
  const wanted = new Set(names);
  for (const n of names) dependentsOf(n).forEach((d) => wanted.add(d));
  return SUB_STEPS.map((s) => s.name).filter((n) => wanted.has(n));
}

/** The config paths a sub-step reads (`account.email`, …), from the catalogue. */
export function configFieldsOf(name) {
  const spec = subStep(name);
  return spec ? [...spec.config_fields] : [];
}

/** The sub-steps that read a config path; `steps_enabled.X` is read by X itself. */
export function readersOf(path) {
  if (path.startsWith("steps_enabled.")) return [path.slice("steps_enabled.".length)];
  return SUB_STEPS.filter((s) => s.config_fields.includes(path)).map((s) => s.name);
}

export function isRerunnable(name) {
  const spec = subStep(name);
  return Boolean(spec && spec.rerunnable);
}

export function isBlocking(name) {
  const spec = subStep(name);
  return Boolean(spec && spec.blocking);
}

export function subStepLabel(name) {
  const spec = subStep(name);
  return spec ? spec.label : "";
}

/**
 * Columns for drawing the graph: per phase, the sub-steps by their depth inside the phase
 * (0 = needs nothing of its own phase). [{phase, columns: [[name, …], …]}].
 */
export function graphColumns() {
  return PHASES.map((phase) => {
    const names = subStepNames(phase);
    const depth = new Map();
    const depthOf = (n) => {
      if (depth.has(n)) return depth.get(n);
      const inside = dependenciesOf(n).filter((d) => names.includes(d));
      const d = inside.length ? 1 + Math.max(...inside.map(depthOf)) : 0;
      depth.set(n, d);
      return d;
    };
    names.forEach(depthOf);
    const columns = [];
    for (const n of names) (columns[depth.get(n)] ||= []).push(n);
    return { phase, columns };
  });
}
