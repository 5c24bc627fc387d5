"""The operations page reads only what the API documents (docs/openapi.json).

The page's convention (frontend/js/model.js, top comment): the API's JSON is read in model.js
and nowhere else, by plain property access (`job.step6`), and nothing but API data is read there
that way. So the field names the page reads are the `.name` property accesses of model.js that
are not method calls; each must be a property of some response schema of the OpenAPI document
(the schemas reachable from a response, not request-only ones such as AccountInput).

The extraction is a small lexer, not a parser: it drops comments and string literals (keeping
the `${...}` expressions of template literals) and does not understand regular-expression
literals, which model.js therefore does not use (checked below).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "frontend" / "js"
MODEL = JS / "model.js"
API = JS / "api.js"
OPENAPI = ROOT / "docs" / "openapi.json"

_IDENT = r"[A-Za-z_$][\w$]*"
# `.name` or `?.name`, not part of `...spread`; numbers (`1.5`) are blanked out first.
_ACCESS = re.compile(rf"(?<!\.)\.(?!\.)\s*({_IDENT})(\s*\()?")
_NUMBER = re.compile(r"(?<![\w$])\d[\d_]*\.\d*")


def code_only(source: str) -> str:
    """The source without comments and string literals; template expressions are kept."""
    out: list[str] = []
    i, n = 0, len(source)
    braces: list[int] = []  # per open `${`: the depth of `{` inside it
    while i < n:
        c = source[i]
        two = source[i : i + 2]
        if two == "//":
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif two == "/*":
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif c in "'\"":
            i += 1
            while i < n and source[i] != c:
                i += 2 if source[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "`" or (c == "}" and braces and braces[-1] == 0):
            # A template literal, or the rest of one after a `${...}` expression.
            if c == "}":
                braces.pop()
            i += 1
            while i < n and source[i] != "`" and source[i : i + 2] != "${":
                i += 2 if source[i] == "\\" else 1
            if source[i : i + 2] == "${":
                braces.append(0)
                i += 2
                out.append(" ; ")
            else:
                i += 1
                out.append('""')
        else:
            if braces and c == "{":
                braces[-1] += 1
            elif braces and c == "}":
                braces[-1] -= 1
            out.append(c)
            i += 1
    return "".join(out)


def fields_read(source: str) -> set[str]:
    """The property names a source reads: `.name` accesses that are not method calls."""
    code = _NUMBER.sub("0", code_only(source))
    return {m.group(1) for m in _ACCESS.finditer(code) if not m.group(2)}


@cache
def documented_fields() -> frozenset[str]:
    """Every property name of every schema reachable from a response of the API."""
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    schemas: dict[str, Any] = document["components"]["schemas"]
    found: set[str] = set()
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(schemas[name])
            if isinstance(node.get("properties"), dict):
                found.update(node["properties"])
            for key, value in node.items():
                if key != "properties":
                    walk(value)
                else:
                    for prop in value.values():
                        walk(prop)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                walk(operation.get("responses", {}))
    return frozenset(found)


def undocumented(source: str) -> set[str]:
    return fields_read(source) - documented_fields()


# ---------------------------------------------------------------------- the page


def test_the_page_reads_only_documented_response_fields() -> None:
    source = MODEL.read_text()
    read = fields_read(source)
    # The extraction sees the reads it must see (a guard against an extractor that sees nothing).
    assert {"step6", "sub_step_progress", "last_failure", "resume_from", "job_counts"} <= read
    assert not undocumented(source), (
        f"frontend/js/model.js reads fields that docs/openapi.json does not declare in any "
        f"response: {sorted(undocumented(source))}"
    )


def test_model_js_has_no_regex_literals_the_lexer_could_misread() -> None:
    code = code_only(MODEL.read_text())
    assert not re.search(r"[=(,:!&|?]\s*/[^/*]", code), "model.js: no regular-expression literals"


def test_the_apis_json_reaches_only_model_js() -> None:
    """Only api.js calls the API, every answer goes through a reader of model.js, and no other
    module imports model.js: raw JSON cannot be read anywhere else."""
    modules = sorted(JS.rglob("*.js"))
    calling = [p.name for p in modules if '"/registration-batches' in p.read_text()]
    assert calling == ["api.js"]
    importing = [p.name for p in modules if re.search(r"from\s+\"[./]*model\.js\"", p.read_text())]
    assert importing == ["api.js"]
    api = API.read_text()
    assert not re.search(r"export\s+(async\s+)?function\s+call\b", api)
    requests = api[api.index("export const requests") :]
    calls = re.findall(r"\bcall\(", requests)
    assert calls and len(calls) == len(re.findall(r"\)\.then\(read\w+\)", requests))


# ---------------------------------------------------------------------- the check itself


def test_a_made_up_field_is_reported() -> None:
    snippet = """
    export function readJob(job) {
      return { progress: job.step6.progress || job.step_6, id: batch?.id, ok: job.status };
    }
    """
    assert undocumented(snippet) == {"progress", "step_6", "id"}


def test_comments_strings_and_method_calls_are_not_reads() -> None:
    snippet = """
    // job.from_a_comment
    /* job.from_a_block */
    const a = "job.from_a_string" + 'job.from_single_quotes';
    const b = job.steps.map((s) => s.name).filter(Boolean);
    const c = [...job.jobs];
    const d = 1.5 + x.y;
    """
    assert fields_read(snippet) == {"steps", "name", "jobs", "y"}


def test_template_expressions_are_read_and_template_text_is_not() -> None:
    snippet = "const t = `job.in_text ${job.made_up_field} and ${`${batch.nested}`} end`;"
    assert fields_read(snippet) == {"made_up_field", "nested"}
    assert undocumented(snippet) == {"made_up_field", "nested"}
