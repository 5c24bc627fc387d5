"""The contact directory (Step 2) and the company register (Steps 3 and 4): read-only ports.

Two adapters implement both: `clients.register_simulator.RegisterSimulator` (deterministic
fixed data, a ledger of look-ups, fault injection) and `clients.http_registers.HttpRegisters`
(a register service over HTTP; its docstring is the contract). Look-ups change nothing, so
they carry no idempotency key; `job_id` names the job for the ledger and the logs.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class RegisterError(Exception):
    """A directory or register look-up failed."""


class TransientRegisterError(RegisterError):
    """Timeout, 5xx or throttling: worth retrying with backoff."""


class PermanentRegisterError(RegisterError):
    """The service refused the look-up (4xx): retrying cannot help."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Contacts(_Frozen):
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)


class CompanyCandidate(_Frozen):
    company_number: str
    name: str
    address: str = ""


class CompanyDetails(_Frozen):
    number: str
    name: str
    address: str = ""
    directors: list[str] = Field(default_factory=list)
    status: str = "registered"
    incorporated_on: date | None = None


class ContactDirectory(Protocol):
    def lookup(self, name: str, website_url: str | None, *, job_id: str) -> Contacts: ...


class CompanyRegister(Protocol):
    def search(self, name: str, *, job_id: str) -> list[CompanyCandidate]:
        """At most `MAX_CANDIDATES`, best first; none when nothing matches."""
        ...

    def details(self, company_number: str, *, job_id: str) -> CompanyDetails | None:
        """The company, or None when the register does not know the number."""
        ...


MAX_CANDIDATES = 10
