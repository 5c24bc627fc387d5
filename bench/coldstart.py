"""Figure 5: a cold start proxy: handler import times, and the size of what is deployed.

Import time: `python -X importtime -c "import <module>"` in a fresh process, for each handler
module of template.yaml (functions sharing a module, the four phases, share its figure) and for
`bench.bare_handler`, the baseline: a handler importing Powertools' Logger, Tracer and Metrics
and boto3, what every function starts from. The figure is the cumulative time of the module's
own top-level imports (its package and itself): everything it pulls in that the interpreter had
not already loaded at startup. Runs are sequential (they do not compete for the CPU) and
interleaved, one round measuring every module once, so that the machine's noise falls on all
of them alike; each figure is the median over the rounds. The headline is a ratio measured
within the run: `handler_import_ratio_max`, the slowest function's median over the baseline's
(target: at most 2.0).

Package size: `sam build` (the SAM CLI in .tools-venv) into a temporary folder; each
function's artifact and the dependencies layer, unzipped (Lambda's limit: 250 MB for a function
and its layers) and zipped (what is uploaded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

from local.template import PROJECT_ROOT, Template

BARE = "bench.bare_handler"
BARE_KEY = "bare_powertools"  # its key among handler_import_ms
RATIO_TARGET = 2.0
SAM = PROJECT_ROOT / ".tools-venv" / "bin" / "sam"


def handler_modules(template: Template) -> dict[str, str]:
    """Function logical id → the module its Handler names."""
    return {name: handler.rsplit(".", 1)[0] for name, handler in template.handlers().items()}


def _entries(stderr: str) -> list[tuple[int, int, int, str]]:
    """(depth, self us, cumulative us, module) per line of -X importtime, in its order."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|")
        raw = name[1:]
        depth = (len(raw) - len(raw.lstrip(" "))) // 2
        entries.append((depth, int(self_us), int(cumulative), raw.strip()))
    return entries


def parse_importtime(stderr: str, module: str) -> tuple[float, dict[str, float]]:
    """(ms spent importing `module`, its heaviest direct imports in ms) from -X importtime."""
    top = module.split(".")[0]
    total_us = 0
    children: dict[str, float] = {}
    pending: dict[str, float] = {}  # depth-1 imports seen since the last top-level one
    for depth, _self_us, cumulative, name in _entries(stderr):
        if depth == 1:
            pending[name] = cumulative / 1000
        elif depth == 0:
            # -X importtime prints an import after everything it imported (post-order).
            if name == top or name.startswith(top + "."):
                total_us += cumulative
                children.update(pending)
            pending = {}
    heaviest = dict(sorted(children.items(), key=lambda kv: -kv[1])[:6])
    return total_us / 1000, heaviest


def self_times(stderr: str) -> dict[str, float]:
    """Module → ms spent in its own body (not its imports)."""
    return {name: self_us / 1000 for _depth, self_us, _cum, name in _entries(stderr)}


def beyond(module_self: dict[str, float], bare_self: dict[str, float]) -> dict[str, float]:
    """What a module imports that the baseline does not: ms per package (two name levels)."""
    grouped: Counter[str] = Counter()
    for name, ms in module_self.items():
        if name not in bare_self:
            grouped[".".join(name.split(".")[:2])] += ms
    return {name: round(ms, 1) for name, ms in grouped.most_common(12)}


def _import_once(module: str) -> str:
    env = os.environ | {"PYTHONPATH": f"{PROJECT_ROOT / 'src'}{os.pathsep}{PROJECT_ROOT}"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
    )
    return done.stderr


def import_times(runs: int) -> dict[str, Any]:
    modules = handler_modules(Template.load())
    measured = [*sorted(set(modules.values())), BARE]
    samples: dict[str, list[float]] = {m: [] for m in measured}
    heaviest: dict[str, dict[str, float]] = {}
    own: dict[str, dict[str, float]] = {}
    for _ in range(runs):
        for module in measured:
            stderr = _import_once(module)
            ms, heaviest[module] = parse_importtime(stderr, module)
            samples[module].append(ms)
            own[module] = self_times(stderr)
    medians = {m: median(s) for m, s in samples.items()}
    bare_ms = medians[BARE]

    def figures(module: str) -> dict[str, Any]:
        return {
            "module": module,
            "median_ms": medians[module],
            "samples_ms": samples[module],
            "ratio_to_bare": medians[module] / bare_ms,
            "heaviest_imports_ms": heaviest[module],
            "beyond_bare_ms": beyond(own[module], own[BARE]),
        }

    detail = {name: figures(module) for name, module in modules.items()}
    ratios = {name: d["ratio_to_bare"] for name, d in detail.items()}
    slowest = max(ratios, key=lambda name: ratios[name])
    return {
        "runs": runs,
        "modules": modules,
        "handler_import_ms": {name: d["median_ms"] for name, d in detail.items()}
        | {BARE_KEY: bare_ms},
        "handler_import_ratio": ratios,
        "handler_import_ratio_max": ratios[slowest],
        "slowest_function": slowest,
        "ratio_target": RATIO_TARGET,
        "bare_module": BARE,
        "detail": detail
        | {BARE_KEY: {"module": BARE, "median_ms": bare_ms, "samples_ms": samples[BARE]}},
    }


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _zipped_bytes(path: Path) -> int:
    with tempfile.TemporaryFile() as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for f in sorted(path.rglob("*")):
                if f.is_file():
                    archive.write(f, f.relative_to(path))
        return out.tell()


def package_sizes() -> dict[str, Any]:
    if not SAM.exists():
        return {"skipped": f"{SAM} is missing (make setup installs the SAM CLI)"}
    build_dir = Path(tempfile.mkdtemp(prefix="bench-sam-build-"))
    try:
        started = time.perf_counter()
        done = subprocess.run(
            [str(SAM), "build", "--build-dir", str(build_dir)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=os.environ | {"SAM_CLI_TELEMETRY": "0"},
        )
        if done.returncode != 0:
            return {"skipped": f"sam build failed: {done.stderr[-500:]}"}
        artifacts = {
            d.name: {"bytes": _tree_bytes(d), "zipped_bytes": _zipped_bytes(d)}
            for d in sorted(build_dir.iterdir())
            if d.is_dir()
        }
        layer = artifacts.pop("DependenciesLayer", {"bytes": 0, "zipped_bytes": 0})
        largest = max(a["bytes"] for a in artifacts.values())
        return {
            "build_s": time.perf_counter() - started,
            "functions": artifacts,
            "layer": layer,
            "function_plus_layer_mb": (largest + layer["bytes"]) / 1e6,
            "function_plus_layer_zipped_mb": (
                max(a["zipped_bytes"] for a in artifacts.values()) + layer["zipped_bytes"]
            )
            / 1e6,
            "total_mb": (sum(a["bytes"] for a in artifacts.values()) + layer["bytes"]) / 1e6,
        }
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
