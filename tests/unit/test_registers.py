"""The directory and company register: the simulator's data and rules, its ledger and faults,
and the HTTP adapter and service between them (clients.register_simulator, http_registers,
register_service), over a waitress server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from clients.http_registers import HttpRegisters
from clients.register_service import RegisterService
from clients.register_simulator import RegisterSimulator, words
from clients.registers import PermanentRegisterError, TransientRegisterError
from local.platform_server import PlatformServer

JOB = "job-1"


def test_search_ranks_by_shared_words_ignoring_legal_suffixes() -> None:
    found = RegisterSimulator().search("Luigi's Trattoria", job_id=JOB)

    assert [c.name for c in found] == [
        "Luigi's Trattoria Limited",
        "Trattoria Roma Limited",
        "Luigi's Holdings Limited",
    ]
    assert found[0].company_number == "1904417" and found[0].address


def test_a_name_that_matches_nothing_has_no_candidates() -> None:
    assert RegisterSimulator().search("Zzyzx Quantum Noodles", job_id=JOB) == []


def test_words_ignore_case_accents_and_punctuation() -> None:
    assert words("The CAFÉ & Co. Ltd") == words("cafe")


def test_details_of_a_known_and_an_unknown_number() -> None:
    register = RegisterSimulator()

    known = register.details("2017345", job_id=JOB)

    assert known is not None and known.name == "Harbour Fish Limited"
    assert known.directors == ["Tom Whitaker", "Ana Whitaker"]
    assert register.details("0000000", job_id=JOB) is None


def test_the_directory_knows_some_restaurants() -> None:
    register = RegisterSimulator()

    assert register.lookup("spice route", None, job_id=JOB).emails == ["hello@spiceroute.example"]
    assert register.lookup("Nowhere Diner", None, job_id=JOB).emails == []


def test_two_instances_answer_the_same() -> None:
    assert RegisterSimulator().search("Harbour Fish", job_id=JOB) == RegisterSimulator().search(
        "Harbour Fish", job_id="other"
    )


def test_the_ledger_counts_calls_from_many_threads() -> None:
    register = RegisterSimulator()

    threads = [
        threading.Thread(target=register.search, args=("Green Bowl",), kwargs={"job_id": JOB})
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    (entry,) = register.ledger()
    assert (entry["operation"], entry["query"], entry["calls"]) == ("search", "Green Bowl", 20)


def test_faults_fail_the_next_matching_calls_then_stop() -> None:
    register = RegisterSimulator()
    register.inject("search", "transient", times=2)
    register.inject("details", "fail", query="2017345")

    for _ in range(2):
        with pytest.raises(TransientRegisterError):
            register.search("Green Bowl", job_id=JOB)
    assert register.search("Green Bowl", job_id=JOB)
    assert register.details("1766022", job_id=JOB) is not None  # another number: untouched
    with pytest.raises(PermanentRegisterError):
        register.details("2017345", job_id=JOB)
    assert register.details("2017345", job_id=JOB) is not None
    assert register.faults() == []


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def served() -> Iterator[tuple[RegisterSimulator, PlatformServer]]:
    simulator = RegisterSimulator()
    server = PlatformServer(RegisterService(simulator).handle, lambda port, why: False).start()
    yield simulator, server
    server.stop()


def test_each_call_round_trips_over_http(served: tuple[RegisterSimulator, PlatformServer]) -> None:
    simulator, server = served
    adapter = HttpRegisters(server.url, timeout_s=5)

    assert adapter.search("Harbour Fish", job_id=JOB) == simulator.search(
        "Harbour Fish", job_id=JOB
    )
    assert adapter.details("2017345", job_id=JOB) == simulator.details("2017345", job_id=JOB)
    assert adapter.details("0000000", job_id=JOB) is None
    assert adapter.lookup("Spice Route", "https://x.example/", job_id=JOB).phones == ["+6495550142"]
    assert {e["job_id"] for e in simulator.ledger()} == {JOB}


def test_faults_come_back_as_their_error_class(
    served: tuple[RegisterSimulator, PlatformServer],
) -> None:
    simulator, server = served
    adapter = HttpRegisters(server.url, timeout_s=5)
    simulator.inject("search", "transient")
    simulator.inject("details", "fail")

    with pytest.raises(TransientRegisterError, match="503"):
        adapter.search("Green Bowl", job_id=JOB)
    with pytest.raises(PermanentRegisterError, match="422"):
        adapter.details("1766022", job_id=JOB)


def test_a_wrong_key_is_permanent() -> None:
    server = PlatformServer(
        RegisterService(RegisterSimulator(), api_key="right").handle, lambda port, why: False
    ).start()
    try:
        with pytest.raises(PermanentRegisterError, match="401"):
            HttpRegisters(server.url, timeout_s=5).search("Green Bowl", job_id=JOB)
    finally:
        server.stop()


def test_a_register_that_does_not_answer_in_time_is_transient(
    served: tuple[RegisterSimulator, PlatformServer],
) -> None:
    simulator, server = served
    simulator.inject("search", "latency", latency_ms=1500)

    with pytest.raises(TransientRegisterError, match="did not answer"):
        HttpRegisters(server.url, timeout_s=0.3).search("Green Bowl", job_id=JOB)


def test_nothing_listening_is_transient() -> None:
    with pytest.raises(TransientRegisterError):
        HttpRegisters("http://127.0.0.1:9", timeout_s=1).search("Green Bowl", job_id=JOB)
