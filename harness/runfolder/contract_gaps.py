"""`contract_gaps.json`: what a target showed instead of a promise, and what was asserted.

Written by the contract suite (`GapRecorder` in suites/contract/helpers.py; every xdist
worker merges into it under the run folder's lock), one entry per test x backend. It is
for behaviour that is not a plain known gap (e.g. moto's intermittent 500s on racing PUTs
of one key, tolerated and asserted as typed errors); known gaps live in the known-gaps files
and in compatibility.json.
"""

from __future__ import annotations

from pydantic import Field

from harness.runfolder._base import Record, RunFile

__all__ = ["ContractGap", "ContractGapsFile"]


class ContractGap(Record):
    emulator: str = Field(description="the target, backend:implementation, e.g. s3:moto")
    test: str = Field(description="the test function's name (without its parameters)")
    backend: str
    check: str = Field(description="the promise the target could not be held to")
    fact: str = Field(description="what the target did instead; no secrets")
    asserted_instead: str = Field(description="what the test asserted in its place")


class ContractGapsFile(RunFile):
    """Facts a target showed instead of a promise, sorted by test and backend."""

    FILE = "contract_gaps.json"

    gaps: list[ContractGap] = Field(default_factory=list)

    def recorded(self, gap: ContractGap) -> ContractGapsFile:
        """This file with `gap` replacing any entry of the same test and backend."""
        kept = [g for g in self.gaps if (g.test, g.backend) != (gap.test, gap.backend)]
        ordered = sorted([*kept, gap], key=lambda g: (g.test, g.backend))
        return self.model_copy(update={"gaps": ordered})
