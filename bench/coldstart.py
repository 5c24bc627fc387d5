"""Figure 5: a cold start proxy: handler import times, and the size of what is deployed.

Import time: `python -X importtime -c "import <module>"` in a fresh process, per handler module
of template.yaml and for `bench.bare_handler` (a handler importing Powertools' Logger only),
median of several runs. The figure is the cumulative time of the module's own top-level
imports (its package and itself): everything it pulls in that the interpreter had not already
loaded at startup. Runs are sequential, so they do not compete for the CPU.

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
from pathlib import Path
from statistics import median
from typing import Any

from local.template import PROJECT_ROOT, Template

BARE = "bench.bare_handler"
SAM = PROJECT_ROOT / ".tools-venv" / "bin" / "sam"


def handler_modules(template: Template) -> dict[str, str]:
    """Function logical id → the module its Handler names."""
    return {name: handler.rsplit(".", 1)[0] for name, handler in template.handlers().items()}


def parse_importtime(stderr: str, module: str) -> tuple[float, dict[str, float]]:
    """(ms spent importing `module`, its heaviest direct imports in ms) from -X importtime."""
    top = module.split(".")[0]
    total_us = 0
    children: dict[str, float] = {}
    pending: dict[str, float] = {}  # depth-1 imports seen since the last top-level one
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line[len("import time:") :].split("|")
        raw = name[1:]
        depth = (len(raw) - len(raw.lstrip(" "))) // 2
        stripped = raw.strip()
        if depth == 1:
            pending[stripped] = int(cumulative) / 1000
        elif depth == 0:
            # -X importtime prints an import after everything it imported (post-order).
            if stripped == top or stripped.startswith(top + "."):
                total_us += int(cumulative)
                children.update(pending)
            pending = {}
    heaviest = dict(sorted(children.items(), key=lambda kv: -kv[1])[:6])
    return total_us / 1000, heaviest


def import_ms(module: str, runs: int) -> dict[str, Any]:
    env = os.environ | {"PYTHONPATH": f"{PROJECT_ROOT / 'src'}{os.pathsep}{PROJECT_ROOT}"}
    samples: list[float] = []
    heaviest: dict[str, float] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
        )
        ms, heaviest = parse_importtime(done.stderr, module)
        samples.append(ms)
    return {"median_ms": median(samples), "samples_ms": samples, "heaviest_imports_ms": heaviest}


def import_times(runs: int) -> dict[str, Any]:
    modules = handler_modules(Template.load())
    measured = {name: import_ms(module, runs) for name, module in modules.items()}
    bare = import_ms(BARE, runs)
    return {
        "runs": runs,
        "modules": modules,
        "handler_import_ms": {name: m["median_ms"] for name, m in measured.items()}
        | {"bare_powertools": bare["median_ms"]},
        "detail": measured | {"bare_powertools": bare},
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
