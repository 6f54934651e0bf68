"""`preflight rule CODE...` / `preflight rule --all`: what a finding code means.

Also how to fix it and where the fact comes from, as `ruff rule` does. The
text is Markdown; `--all` prints the whole catalogue, which is also
docs/rules.md word for word (tests/test_catalogue.py checks it).
"""

from __future__ import annotations

import argparse

from preflight._core.catalogue import (
    FAILURE,
    FINDING,
    PACK,
    PREPARE,
    REQUEST_FIX,
    RULES,
    USAGE,
    Rule,
    unknown_code_message,
)
from preflight.cli import _common

_KIND_WORDS = {
    FINDING: "finding: `preflight check` (or `request`) reports it about an image",
    FAILURE: "failure: a file that could not be read or prepared",
    USAGE: "usage error: the command exits 2",
}
_FIXER_WORDS = {
    PREPARE: "`preflight prepare` (prepare())",
    REQUEST_FIX: "`preflight request --fix` (prepare_request())",
    PACK: "`preflight pack` (pack_images())",
}
_SECTIONS = (
    (FINDING, "Findings"),
    (FAILURE, "Failures (a file that could not be read or prepared)"),
    (USAGE, "Usage errors (exit 2)"),
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rule",
        help="explain finding codes (like `ruff rule`)",
        description="Prints what each code means, how to fix it, and its source. "
        "Exit 0, or 2 for an unknown code.",
    )
    parser.add_argument("codes", nargs="*", metavar="CODE")
    parser.add_argument("--all", action="store_true", help="every code (docs/rules.md)")
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.all == bool(args.codes):
        raise _common.command_line_error("give one or more codes, or --all")
    unknown = [code for code in args.codes if code not in RULES]
    if unknown:
        raise _common.command_line_error(
            f"{unknown_code_message(unknown[0])} (`preflight rule --all` lists every code)"
        )
    rules = list(RULES.values()) if args.all else [RULES[code] for code in args.codes]
    if args.format == "json":
        _common.print_json([rule.to_dict() for rule in rules])
    elif args.all:
        print(catalogue_markdown(), end="")
    else:
        print("\n".join(rule_markdown(rule) for rule in rules), end="")
    return _common.EXIT_OK


def fixed_by_words(rule: Rule) -> str:
    """What in preflight fixes the code, as a sentence."""
    if not rule.fixed_by:
        return "preflight does not fix it by itself."
    return f"Fixed by {', '.join(_FIXER_WORDS[name] for name in rule.fixed_by)}."


def rule_markdown(rule: Rule, level: int = 1) -> str:
    head = "#" * level
    text = (
        f"{head} {rule.code}\n\n"
        f"**{rule.severity}**; {_KIND_WORDS[rule.kind]}.\n\n"
        f"{rule.summary}\n\n"
    )
    if rule.reserved:
        text += f"Reserved: nothing reports it yet ({rule.reserved}).\n\n"
    text += f"{head}# What it means\n\n{rule.meaning}\n\n"
    if rule.api_words is not None:
        text += f"{head}# The API's words\n\n`{rule.api_words}`\n\n"
    return text + (
        f"{head}# How to fix it\n\n{rule.fix}\n\n{fixed_by_words(rule)}\n\n"
        f"{head}# Source\n\n{rule.source}\n"
    )


def catalogue_markdown() -> str:
    """docs/rules.md: a table of every code, then each code in full."""
    lines = [
        "# Codes",
        "",
        "Every code preflight reports, from `preflight/_core/catalogue.py`: findings",
        "about images and requests, failures of files that could not be read or",
        "prepared, and usage errors. This page is the output of `preflight rule --all`;",
        "`preflight rule CODE` prints one code (`--format json` as data). Select or",
        "ignore codes with `--select`, `--ignore` and the configuration's `select`,",
        "`ignore` and `per-file-ignores` ([ci.md](ci.md)); a mistyped code is a usage",
        "error that names the closest code. In an API message `<N>` stands for a",
        "number and `<W>x<H>` for a size. SARIF output links each rule to its section",
        "here (`helpUri`) when the installed package declares where its documentation",
        "is ([ci.md](ci.md)).",
        "",
        "| code | severity | kind | fixed by | summary |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{r.code}` | {r.severity} | {r.kind} | {', '.join(r.fixed_by) or '-'} | {r.summary} |"
        for r in RULES.values()
    ]
    text = "\n".join(lines) + "\n"
    for kind, title in _SECTIONS:
        text += f"\n## {title}\n"
        for rule in RULES.values():
            if rule.kind == kind:
                text += "\n" + rule_markdown(rule, level=3)
    return text
