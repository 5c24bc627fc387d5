"""The directory and company register's simulator: deterministic fixed data, a ledger of
look-ups and fault injection (like the platform's simulator, `clients.simulator`).

The data is the same in every process (a fixed table below), so deployed functions in
`REGISTER_MODE=sandbox` agree without sharing memory; the ledger and the faults are the
instance's (the local runtime serves one instance to every function over HTTP).

- `search(name)`: companies sharing a word with the restaurant's name (ignoring "limited",
  "ltd", "the", "and", punctuation), best first (most shared words, then the shorter name).
- `details(number)`: the company of that number, or None.
- `lookup(name)`: the directory's contacts for that exact name (normalised), else none.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from clients.registers import (
    MAX_CANDIDATES,
    CompanyCandidate,
    CompanyDetails,
    Contacts,
    PermanentRegisterError,
    TransientRegisterError,
)

Operation = Literal["search", "details", "lookup"]
FaultMode = Literal["fail", "transient", "latency"]

# (number, name, address, directors, incorporated)
_COMPANIES: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    (
        "1904417",
        "Luigi's Trattoria Limited",
        "12 Cuba Street, Te Aro, Wellington 6011",
        ("Luigi Bianchi", "Maria Bianchi"),
        "2016-03-14",
    ),
    (
        "2281350",
        "Luigi's Holdings Limited",
        "PO Box 1120, Wellington 6140",
        ("Luigi Bianchi",),
        "2019-07-02",
    ),
    (
        "1766022",
        "Green Bowl Eatery Limited",
        "48 Ponsonby Road, Auckland 1011",
        ("Aroha Ngata",),
        "2015-11-20",
    ),
    (
        "2017345",
        "Harbour Fish Limited",
        "3 Queens Wharf, Wellington 6011",
        ("Tom Whitaker", "Ana Whitaker"),
        "2017-05-09",
    ),
    (
        "2310988",
        "Harbour Fish & Chips (2019) Limited",
        "88 Marine Parade, Napier 4110",
        ("Sam Lee",),
        "2019-02-18",
    ),
    (
        "1599001",
        "Harbour Seafood Traders Limited",
        "1 Wharf Road, Nelson 7010",
        ("Ravi Patel",),
        "2012-09-30",
    ),
    (
        "2450773",
        "Corner Cafe Limited",
        "201 High Street, Christchurch 8011",
        ("Jess Morgan",),
        "2020-01-15",
    ),
    (
        "2088214",
        "Spice Route Kitchen Limited",
        "17 Dominion Road, Auckland 1024",
        ("Priya Singh", "Arjun Singh"),
        "2018-04-11",
    ),
    (
        "1822310",
        "Cafe Aroha Limited",
        "5 Aro Street, Wellington 6021",
        ("Mere Parata",),
        "2016-08-01",
    ),
    (
        "1987012",
        "Kai Kitchen Limited",
        "64 Victoria Street, Hamilton 3204",
        ("Hemi Walker",),
        "2017-10-23",
    ),
    (
        "2144590",
        "Harbour Dumplings Limited",
        "9 Customhouse Quay, Wellington 6011",
        ("Wei Zhang",),
        "2018-06-05",
    ),
    (
        "2266781",
        "Te Aro Tacos Limited",
        "30 Willis Street, Wellington 6011",
        ("Carlos Ruiz",),
        "2019-03-27",
    ),
    ("2377420", "Moana Pies Limited", "2 Beach Road, Raglan 3225", ("Tama Moana",), "2019-12-12"),
    (
        "2401155",
        "Kai Corner Limited",
        "120 Karangahape Road, Auckland 1010",
        ("Lena Fox",),
        "2020-02-20",
    ),
    (
        "2419876",
        "Lotus Bowl Limited",
        "77 Manners Street, Wellington 6011",
        ("Linh Tran",),
        "2020-05-04",
    ),
    ("2433309", "Tui Diner Limited", "14 Tui Street, Taupo 3330", ("Grace Hill",), "2020-08-17"),
    (
        "1700450",
        "Trattoria Roma Limited",
        "5 Lambton Quay, Wellington 6011",
        ("Paolo Conti",),
        "2014-02-03",
    ),
)
# The directory: contacts by restaurant name (normalised).
_DIRECTORY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "spice route": (("hello@spiceroute.example",), ("+6495550142",)),
    "corner cafe": (("info@cornercafe.example",), ("+6435550177",)),
    "green bowl": (("team@greenbowl.example",), ("+6495550123",)),
}
_IGNORED = frozenset({"limited", "ltd", "the", "and", "co", "company", "nz"})


def words(name: str) -> frozenset[str]:
    """The words of a name that count for matching: case-folded, accents and punctuation off."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    plain = plain.replace("'s", "s").replace("'", "")
    return frozenset(w for w in re.findall(r"[a-z0-9]+", plain) if w not in _IGNORED)


def _normalised(name: str) -> str:
    return " ".join(sorted(words(name)))


@dataclass
class _Fault:
    operation: Operation
    mode: FaultMode
    times: int
    query: str | None
    latency_ms: int


@dataclass
class RegisterSimulator:
    """Both ports over the fixed data; thread-safe ledger and faults."""

    _ledger: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ the ports

    def search(self, name: str, *, job_id: str) -> list[CompanyCandidate]:
        self._called("search", name, job_id)
        wanted = words(name)
        scored = [
            (len(wanted & words(company_name)), company_name, number, address)
            for number, company_name, address, _, _ in _COMPANIES
        ]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], len(s[1]), s[2]))
        return [
            CompanyCandidate(company_number=number, name=company_name, address=address)
            for _, company_name, number, address in best[:MAX_CANDIDATES]
        ]

    def details(self, company_number: str, *, job_id: str) -> CompanyDetails | None:
        self._called("details", company_number, job_id)
        for number, name, address, directors, incorporated in _COMPANIES:
            if number == company_number:
                return CompanyDetails(
                    number=number,
                    name=name,
                    address=address,
                    directors=list(directors),
                    incorporated_on=date.fromisoformat(incorporated),
                )
        return None

    def lookup(self, name: str, website_url: str | None, *, job_id: str) -> Contacts:
        self._called("lookup", name, job_id)
        entries = {_normalised(known): found for known, found in _DIRECTORY.items()}
        emails, phones = entries.get(_normalised(name), ((), ()))
        return Contacts(emails=list(emails), phones=list(phones))

    # ------------------------------------------------------------------ ledger and faults

    def ledger(self) -> list[dict[str, Any]]:
        """One entry per distinct (operation, query, job): how many calls, first and last."""
        with self._lock:
            return [dict(entry) for entry in self._ledger.values()]

    def inject(
        self,
        operation: Operation,
        mode: FaultMode,
        *,
        times: int = 1,
        query: str | None = None,
        latency_ms: int = 0,
    ) -> None:
        """The next `times` calls of `operation` (whose query is `query`, when given) fail
        permanently, transiently, or are slowed by `latency_ms`."""
        with self._lock:
            self._faults.append(_Fault(operation, mode, times, query, latency_ms))

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(f).copy() for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._ledger.clear()

    def _called(self, operation: Operation, query: str, job_id: str) -> None:
        now = datetime.now(UTC).isoformat()
        with self._lock:
            entry = self._ledger.setdefault(
                (operation, query, job_id),
                {"operation": operation, "query": query, "job_id": job_id, "calls": 0, "at": now},
            )
            entry["calls"] += 1
            entry["last_at"] = now
            fault = next(
                (
                    f
                    for f in self._faults
                    if f.operation == operation and f.query in (None, query) and f.times > 0
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
        if fault is None:
            return
        if fault.mode == "latency":
            time.sleep(fault.latency_ms / 1000)
        elif fault.mode == "transient":
            raise TransientRegisterError(f"the register is unavailable ({operation}, injected)")
        else:
            raise PermanentRegisterError(f"the register refused the {operation} (injected)")
