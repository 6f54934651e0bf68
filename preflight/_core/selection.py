"""Which finding codes a run reports, as ruff selects rules.

Rules:
- pure: selectors and paths in, decisions out;
- a selector is a code of the catalogue, a severity (error, warning, info)
  or ALL; anything else is an InvalidArgumentError saying what is
  expected, with the closest known selector when one is close (difflib);
- layers apply in order (the configuration file's, then the command
  line's); within a layer `select` replaces what came before, then
  `extend-select` adds, `ignore` and `extend-ignore` remove; for each code
  the most specific selector of the layer decides (a code beats a
  severity, which beats ALL), and on a tie ignoring wins;
- globs (exclude, per-file-ignores) are matched against a path relative to
  the configuration's folder: a glob without "/" matches any one part of
  it (a file or folder name), a glob with "/" matches from the start;
  `*` and `?` stay within a part, `**` crosses parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from preflight._core.catalogue import RULES, closest
from preflight._core.findings import SEVERITIES, Finding
from preflight.errors import InvalidArgumentError

ALL = "ALL"


def check_selectors(selectors: Iterable[str]) -> tuple[str, ...]:
    """The selectors, each checked (a code, a severity or ALL)."""
    checked = tuple(s.strip() for s in selectors)
    for selector in checked:
        if selector != ALL and selector not in SEVERITIES and selector not in RULES:
            expected = (
                f"a code (see `preflight rule --all`), a severity ({', '.join(SEVERITIES)}) "
                f"or {ALL}"
            )
            match = closest(selector, (*RULES, *SEVERITIES, ALL))
            hint = f": expected {expected}"
            if match is not None:
                hint = f"; did you mean {match!r}? Expected {expected}"
            raise InvalidArgumentError(f"unknown code {selector!r}{hint}")
    return checked


def _specificity(selector: str, code: str) -> int:
    """How closely `selector` names `code` (0: not at all)."""
    if selector == code:
        return 3
    rule = RULES.get(code)
    if rule is not None and selector == rule.severity:
        return 2
    return 1 if selector == ALL else 0


@dataclass(frozen=True)
class Layer:
    select: tuple[str, ...] | None = None  # None: keep what came before
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()

    def decide(self, code: str, before: bool) -> bool:
        chosen = before
        score = 0
        if self.select is not None:
            chosen, score = False, 0
            for selector in self.select:
                if _specificity(selector, code) > score:
                    chosen, score = True, _specificity(selector, code)
        for selector in self.extend_select:
            if _specificity(selector, code) > score:
                chosen, score = True, _specificity(selector, code)
        for selector in (*self.ignore, *self.extend_ignore):
            if _specificity(selector, code) >= max(score, 1):
                chosen, score = False, _specificity(selector, code)
        return chosen


@dataclass(frozen=True)
class Selection:
    """The layers and the per-file ignores of a run."""

    layers: tuple[Layer, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def selected(self, code: str) -> bool:
        chosen = True  # every code, unless a layer says otherwise
        for layer in self.layers:
            chosen = layer.decide(code, chosen)
        return chosen

    def keep(self, findings: Sequence[Finding], relative: str | None) -> tuple[Finding, ...]:
        """The findings a file (at `relative` to the configuration's folder)
        reports: selected, and not ignored for that file."""
        ignored: list[str] = []
        if relative is not None:
            for pattern, codes in self.per_file_ignores.items():
                if glob_matches(pattern, relative):
                    ignored.extend(codes)
        return tuple(
            f
            for f in findings
            if self.selected(f.code) and not any(_specificity(s, f.code) for s in ignored)
        )


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.S)


def glob_matches(pattern: str, relative: str) -> bool:
    """Does a glob match a relative POSIX path, or one of its folders (see
    the module comment)?"""
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    regex = _glob_regex(pattern)
    if "/" not in pattern:
        return any(regex.match(part) for part in parts)
    return any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1))
