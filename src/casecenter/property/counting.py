"""Stock-taking arithmetic (盘点比对), pure: what the records expect against what was scanned.

Kept free of the ORM so it can be tested and measured on its own (a count of
100,000 items is a dictionary walk, not 100,000 queries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Comparison:
    matched: int
    missing: list[str] = field(default_factory=list)  # expected here, not scanned
    unexpected: list[str] = field(default_factory=list)  # scanned here, not expected here
    misplaced: list[dict[str, str]] = field(default_factory=list)  # here, but another shelf

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unexpected or self.misplaced)

    def as_dict(self) -> dict:
        return {
            "matched": self.matched,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "misplaced": self.misplaced,
        }


def compare(expected: Mapping[str, str], scans: Iterable[tuple[str, str]]) -> Comparison:
    """``expected`` maps item number → location code; ``scans`` are (code, location code)
    in scan order. A code scanned twice counts once (its last place wins)."""
    found: dict[str, str] = {}
    for code, where in scans:
        found[code] = where
    missing = sorted(number for number in expected if number not in found)
    unexpected = sorted(code for code in found if code not in expected)
    misplaced = [
        {"number": number, "expected": expected[number], "found": where}
        for number, where in sorted(found.items())
        if number in expected and where and where != expected[number]
    ]
    matched = len(found) - len(unexpected) - len(misplaced)
    return Comparison(matched, missing, unexpected, misplaced)
