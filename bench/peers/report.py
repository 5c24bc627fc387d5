"""The "Side by side with the peers" section of latest.md, from `run_peers`' figures."""

from __future__ import annotations

from typing import Any


def _rows(peers: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rows = [("ours (Step Functions + DynamoDB, resume)", peers["ours"])]
    rows += [(f"DBOS, {v}", peers["dbos"][v]) for v in ("default", "guided")]
    rows += [(f"durable functions, {v}", peers["durable"][v]) for v in ("default", "guided")]
    return rows


def _dbos_wall_words(peers: dict[str, Any]) -> str:
    """Why DBOS's wall time is what it is, from the run's own figures (not DBOS's overhead)."""
    dbos = peers["dbos"]["default"]
    own = dbos["wall_s"] - dbos["calls_one_after_another_s"]
    return (
        "DBOS runs a workflow's steps one after another, as its workflow guide writes them: "
        f"its {dbos['wall_s']:.2f} s is its {dbos['platform_calls']} platform calls in a row "
        f"({dbos['calls_one_after_another_s']:.2f} s at {peers['latency_ms']} ms) plus "
        f"{own:.2f} s of its own, so its wall time says nothing against DBOS's speed. DBOS runs "
        "steps concurrently by enqueueing them on a queue (child workflows that a worker thread "
        "polls for, every second by default); that version, and how it recovers, is not built "
        "or measured here."
    )


def section(peers: dict[str, Any], table: Any) -> list[str]:
    ours = peers["ours"]
    cells = len(ours["cells"])
    rows = []
    for name, f in _rows(peers):
        rows.append(
            [
                name,
                f["duplicates"],
                f["reexecutions"],
                f["resumable_after_permanent_failure"],
                f["completed"],
                f["wall_s"],
                f["critical_path_ratio"],
                round(ours["wall_s"] / f["wall_s"], 2) if f["wall_s"] else "n/a",
                f["operator_action"],
            ]
        )
    return [
        "## Side by side with the peers",
        "",
        f"Step 6's graph (the same 12 sub-steps, phases, dependencies, blocking rules and sub-step "
        f"logic) on [DBOS](../peers/dbos_peer.py) and on [AWS Lambda durable functions]"
        f"(../peers/durable_peer.py), each written idiomatically, against ours "
        f"([bench/peers/run.py](../peers/run.py)). {cells} cells per implementation "
        f"({len(peers['sub_steps'])} sub-steps x {', '.join(peers['modes'])}), each on a fresh "
        f"simulator, then recovered each one's own way. *default*: calls carry no stable "
        f"idempotency key (a new request per attempt); *guided*: the peer's own advice (DBOS: "
        f"key from the workflow id and step; durable functions: key from the execution ARN and "
        f"step). Wall time: the happy path with every platform call delayed "
        f"{peers['latency_ms']} ms; critical path {peers['critical_path_s']} s.",
        "",
        table(
            [
                "implementation",
                "duplicated effects",
                "re-executed sub-steps",
                "resumable after a permanent failure",
                "completed",
                "wall s",
                "/ critical path",
                "wall ours/peer",
                "operator action",
            ],
            rows,
        ),
        "",
        "In plain words: a crash is where the peers shine: both recover by themselves (DBOS on "
        "relaunch, durable functions by re-invocation and replay), with no operator at all, and"
        " with the guided key a crash after the effect takes it once. Ours needs a resume call."
        " A permanent failure is where they differ: DBOS's fork re-runs every step after the "
        "failed one (a non-blocking failure's later sub-steps run again, and the fork's new "
        "workflow id makes the guided key new too); durable functions cannot redrive a failed "
        "execution, so a new one runs every step again, re-taking each effect whose logic does "
        "not look its object up first. Ours re-runs only what did not complete, under the same "
        "keys. "
        + _dbos_wall_words(peers)
        + " Durable functions' `parallel` matches our phase concurrency. Where the peers are "
        "better: far less "
        "infrastructure (DBOS: a library and one SQLite/Postgres database; durable functions: "
        "one Lambda function, no state machine, table or reconciler) and much less code: each "
        "peer is about 100 lines of workflow over the same sub-step logic, against our planner,"
        " runner, checkpoints, settlement and resume.",
        "",
    ]
