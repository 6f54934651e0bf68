"""Conventions every preflight subcommand follows.

Rules:
- exit 0 when all is well, 1 when something would be rejected or could not
  be done, 2 for bad usage; 130 on Ctrl-C;
- a usage error or a PreflightError is one clear line on stderr, never a
  traceback;
- `--format text|json` (check, estimate, prepare: also jsonl, github,
  sarif, junit; cli/reporters): text for people, JSON (exact numbers,
  costs as strings) for scripts;
- settings come from [tool.preflight] (preflight/config): they become the
  defaults of the flags, so a flag given on the command line wins;
- options shared by subcommands are declared here once;
- directories are walked recursively in sorted order, without following
  symlinked directories (a link loop cannot trap the walk), and only
  regular files (or links to them, or broken links, which are then
  reported as unreadable) are taken: a FIFO would block the walk forever,
  a device would be read to its end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from preflight._core.tables import (
    DEFAULT_MODEL,
    DEFAULT_OVERSIZED,
    DEFAULT_SURFACE,
    DEFAULT_TOKEN_RULE,
    MODELS,
    OVERSIZED_POLICIES,
    SURFACES,
    TIERS,
    TOKEN_RULES,
)
from preflight._imaging import interrupts
from preflight.cli._reporters import FORMATS, Display, colour_wanted, display_text
from preflight.errors import UnknownNameError
from preflight.errors import UsageError as UsageError

if TYPE_CHECKING:
    from preflight._core.options import Options
    from preflight._core.selection import Selection
    from preflight._inputs.walking import FileId as FileId

# Start-up (docs/speed.md): this module holds flag definitions, which every
# command builds, so it imports only what they need; what a run needs
# (options, selection, configuration files, json, the walk) is imported
# where it is used.

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


Terminated = interrupts.Terminated
signals_deferred = interrupts.deferred


BAD_COMMAND_LINE = "bad-command-line"


def command_line_error(message: str) -> UsageError:
    """Bad command-line input (preflight.errors.UsageError, code
    bad-command-line): reported as one line, exit 2."""
    return UsageError(message, code=BAD_COMMAND_LINE)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Models(argparse.Action):
    """--model given several times (estimate --from prices them side by
    side): `models` holds them all, `model` the first."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        given = [*(getattr(namespace, "models", None) or []), str(values)]
        namespace.models = given
        namespace.model = given[0]


def add_options(
    parser: argparse.ArgumentParser, *, request: bool = True, many_models: bool = False
) -> None:
    """The flags that build preflight.Options, declared once for every
    subcommand (`request`: the many-image count and the oversized policy;
    `many_models`: --model may be given several times)."""
    group = parser.add_argument_group("model and pricing")
    group.add_argument(
        "--model",
        action=_Models if many_models else "store",
        default=DEFAULT_MODEL,
        help=f"Claude model: price, resolution tier and image cap (default {DEFAULT_MODEL}; "
        f"known: {', '.join(MODELS)}; aliases like sonnet-4.6 and dated ids work)",
    )
    group.add_argument(
        "--price",
        metavar="USD",
        help="custom input price in USD per million tokens (allows a model not in the table)",
    )
    group.add_argument("--tier", choices=sorted(TIERS), help="override the model's tier")
    group.add_argument(
        "--token-rule",
        "--rule",
        dest="token_rule",
        default=DEFAULT_TOKEN_RULE,
        choices=TOKEN_RULES,
        help="token rule: patches = ceil(w/28)*ceil(h/28) (what the API bills, default); "
        "guide = ceil(w*h/750) (the vision guide's cost table); --rule is the same flag",
    )
    group.add_argument(
        "--batch", action="store_true", help="price with the Message Batches discount (50%%)"
    )
    group.add_argument(
        "--prompt-tokens",
        dest="prompt_tokens",
        type=positive_int,
        metavar="N",
        help="the whole prompt's length in tokens, for models whose price depends on it",
    )
    where = parser.add_argument_group("where the images go")
    where.add_argument(
        "--surface",
        default=DEFAULT_SURFACE,
        help=f"where the images are sent (default {DEFAULT_SURFACE}; known: {', '.join(SURFACES)})",
    )
    if not request:
        return
    where.add_argument(
        "--images-per-request",
        dest="images_per_request",
        type=positive_int,
        default=1,
        metavar="N",
        help="image blocks in the whole request, earlier turns included (default 1)",
    )
    where.add_argument(
        "--oversized",
        choices=(*OVERSIZED_POLICIES, "resize"),
        default=DEFAULT_OVERSIZED,
        help="what the API does with an image over its tier's size: downsize (default) or "
        'error (an image block with "oversized_image": "error", or a computer-use '
        "tool result)",
    )


def add_run_options(parser: argparse.ArgumentParser, *, scheduler: bool = True) -> None:
    """How the work runs: --jobs, --no-progress, --scheduler (docs/scale.md)."""
    group = parser.add_argument_group("running")
    group.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        metavar="N",
        help="worker processes (default: chosen by the work: header reads in one process, "
        "decoding moved to one process per CPU when it is worth it; URLs are read 16 at a "
        "time on threads); output is the same for any N",
    )
    group.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (it is drawn only on a terminal, for runs over a second)",
    )
    if scheduler:
        group.add_argument(
            "--scheduler",
            metavar="ADDRESS",
            help="run on this Dask distributed cluster (tcp://host:8786; docs/remote.md)",
        )


def add_format_option(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] = ("text", "json")
) -> None:
    parser.add_argument(
        "--format",
        "--output-format",
        dest="format",
        choices=formats,
        default="text",
        help="output format (default text)",
    )
    parser.add_argument(
        "-o",
        "--output-file",
        dest="output_file",
        metavar="FILE",
        help="write the output to FILE instead of stdout (whole or not at all: written "
        "beside it, then renamed); the exit code is the same",
    )


@contextlib.contextmanager
def output_to(args: argparse.Namespace) -> Iterator[None]:
    """-o FILE: stdout is FILE while the command runs (every command prints
    through sys.stdout), written through a temporary file renamed at the end
    (preflight._inputs.writing.open_atomically); a run that raises (a usage
    error, Ctrl-C) leaves no file. Without -o, nothing changes."""
    name = getattr(args, "output_file", None)
    if name is None:
        yield
        return
    from preflight._inputs.writing import open_atomically
    from preflight.errors import WriteError

    target = Path(name)
    if not name or target.is_dir():
        raise command_line_error(f"--output-file {name!r}: expected a file name")
    with open_atomically(target) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", newline="\n")
        saved, sys.stdout = sys.stdout, text
        try:
            yield
            try:
                text.flush()
            except OSError as error:
                raise WriteError(f"{name}: cannot write ({error.strerror or error})") from None
        finally:
            sys.stdout = saved
            with contextlib.suppress(OSError, ValueError):
                text.detach()  # the raw file is open_atomically's to close


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def add_report_options(parser: argparse.ArgumentParser, *, strict: bool = False) -> None:
    """--format with every reporter, the flags that shape output and exit
    codes, code selection, and where settings come from (see docs/ci.md)."""
    add_format_option(parser, FORMATS)
    out = parser.add_argument_group("output")
    out.add_argument(
        "-q", "--quiet", action="store_true", help="print only problems and the summary"
    )
    out.add_argument(
        "-s", "--silent", action="store_true", help="print nothing; the exit code tells"
    )
    out.add_argument(
        "-v", "--verbose", action="store_true", help="also print info findings and clean files"
    )
    out.add_argument(
        "--statistics", action="store_true", help="print a count per code instead of each finding"
    )
    out.add_argument(
        "--show-fixes", action="store_true", help="print how to fix each problem under it"
    )
    out.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when something would be rejected"
    )
    if strict:
        out.add_argument(
            "--strict",
            action=argparse.BooleanOptionalAction,
            default=False,
            help="exit 1 on warnings too",
        )
    codes = parser.add_argument_group(
        "finding codes", "CODES: comma-separated codes, severities (error, warning, info) or ALL"
    )
    for flag, what in (
        ("--select", "report only these codes (replaces the configured selection)"),
        ("--extend-select", "report these codes too"),
        ("--ignore", "do not report these codes"),
        ("--extend-ignore", "do not report these codes either"),
    ):
        codes.add_argument(flag, metavar="CODES", type=_codes, action="append", help=what)
    config = parser.add_argument_group("configuration")
    config.add_argument(
        "--config",
        metavar="PATH",
        help="read settings from this file (default: the nearest pyproject.toml with "
        "[tool.preflight], or preflight.toml, above the paths)",
    )
    config.add_argument("--isolated", action="store_true", help="read no configuration file")
    config.add_argument(
        "--show-settings",
        action="store_true",
        help="print the settings this run would use (the configuration file found, options, "
        "selected codes, every flag's value) and exit 0",
    )
    parser.set_defaults(configurable=parser)


def configure(
    root: argparse.ArgumentParser, args: argparse.Namespace, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Apply the settings file to a configurable subcommand: models and
    prices first, then its settings as the subcommand's defaults, and parse
    again so that flags win."""
    from preflight._inputs.config import load_models, load_settings, settings_file

    if args.config is not None and args.isolated:
        raise command_line_error("--config and --isolated contradict each other")
    path = settings_file(
        getattr(args, "paths", None) or [],
        config=args.config,
        isolated=args.isolated,
        cwd=Path.cwd(),
    )
    load_models(file=path, searched=args.config is None)  # found: no re-pointing built-ins
    settings = load_settings(path)
    args.configurable.set_defaults(**settings.flag_defaults())
    again = root.parse_args(argv)
    again.settings = settings
    return again


# Namespace entries that are argparse's plumbing, not settings.
_NOT_SETTINGS = frozenset({"run", "configurable", "settings", "show_settings", "command", "models"})


def show_settings(args: argparse.Namespace) -> int:
    """--show-settings: what this run would use, resolved (the configuration
    file found and its values, the options, the selected codes, every flag),
    then exit 0; as ruff's --show-settings. Text, or JSON for any other --format."""
    import json

    from preflight._core.catalogue import FINDING, RULES

    settings = args.settings
    selection = selection_from_args(args)
    codes = [rule.code for rule in RULES.values() if rule.kind == FINDING]
    where = None if settings.path is None else str(settings.path)
    data: dict[str, object] = {
        "command": args.command,
        "settings_file": where,
        "root": str(settings.root),
        "file_settings": dict(settings.values),
        "options": _shown_options(args),
        "selected": [c for c in codes if selection.selected(c)],
        "not_selected": [c for c in codes if not selection.selected(c)],
        "per_file_ignores": dict(selection.per_file_ignores),
        "flags": {k: v for k, v in sorted(vars(args).items()) if k not in _NOT_SETTINGS},
    }
    if args.format != "text":
        print(json.dumps(data, indent=2, default=str))
        return EXIT_OK

    def value(item: object) -> str:
        return display_text(json.dumps(item, default=str))

    print(f"settings file: {display_text(where) if where else 'none (built-in defaults)'}")
    print(f"root: {display_text(str(settings.root))}  (exclude and per-file-ignores globs)")
    print(f"command: {args.command}")
    for title in ("file_settings", "options", "flags"):
        section = data[title]
        assert isinstance(section, dict)
        print(f"\n[{title.replace('_', ' ')}]")
        if not section:
            print("(none)")
        for key, item in section.items():
            print(f"{key} = {value(item)}")
    print("\n[selection]")
    for title in ("selected", "not_selected", "per_file_ignores"):
        print(f"{title.replace('_', ' ')} = {value(data[title])}")
    return EXIT_OK


def _shown_options(args: argparse.Namespace) -> dict[str, object]:
    """The options --show-settings shows; `model` None where the input names
    it (request: the body's model unless --model is given)."""
    if getattr(args, "model", DEFAULT_MODEL) is not None:
        return options_from_args(args).to_dict()
    return {**options_from_args(args, model=DEFAULT_MODEL).to_dict(), "model": None}


def selection_from_args(args: argparse.Namespace) -> Selection:
    """The configured selection, then the command line's on top."""
    from preflight._core.selection import Layer, Selection, check_selectors
    from preflight._inputs.config import ProjectConfig

    settings: ProjectConfig = getattr(args, "settings", None) or ProjectConfig()

    def flat(name: str) -> tuple[str, ...]:
        given = getattr(args, name, None) or []
        return check_selectors(code for codes in given for code in codes)

    configured = Layer(
        select=settings.get("select"),
        extend_select=settings.get("extend-select", ()),
        ignore=settings.get("ignore", ()),
        extend_ignore=settings.get("extend-ignore", ()),
    )
    command_line = Layer(
        select=flat("select") if getattr(args, "select", None) else None,
        extend_select=flat("extend_select"),
        ignore=flat("ignore"),
        extend_ignore=flat("extend_ignore"),
    )
    return Selection((configured, command_line), settings.get("per-file-ignores", {}))


def display_from_args(
    args: argparse.Namespace, code_separator: str = " ", *, group: bool = False
) -> Display:
    """The Display the flags describe; `group`: text output groups a warning
    repeated on many files into one line (check's; -v lists them all)."""
    return Display(
        format=args.format,
        quiet=args.quiet,
        silent=args.silent,
        verbose=args.verbose,
        statistics=args.statistics,
        show_fixes=args.show_fixes,
        strict=bool(getattr(args, "strict", False)),
        exit_zero=args.exit_zero,
        colour=args.format == "text" and colour_wanted(sys.stdout),
        code_separator=code_separator,
        group=group,
    )


def options_from_args(args: argparse.Namespace, **more: Any) -> Options:
    """The Options the flags describe, or a usage error in command-line terms."""
    from preflight._core.options import make_options

    keywords: dict[str, Any] = {
        "model": args.model,
        "price_per_mtok": args.price,
        "tier": args.tier,
        "token_rule": args.token_rule,
        "batch": args.batch,
        "surface": args.surface,
        "prompt_tokens": args.prompt_tokens,
    }
    if hasattr(args, "images_per_request"):
        keywords["images_in_request"] = args.images_per_request
        keywords["oversized"] = args.oversized
    if getattr(args, "max_bytes", None) is not None:
        keywords["max_bytes"] = args.max_bytes
    keywords.update(more)
    try:
        return make_options(**keywords)
    except UnknownNameError as error:
        if error.kind != "model":
            raise
        lead = f"; did you mean {error.suggestion!r}? Known" if error.suggestion else "; known"
        raise command_line_error(
            f"unknown model {error.name!r}{lead}: {', '.join(error.known)}. "
            "To price another model pass --price USD (per million input tokens) "
            "and --tier standard|high-res."
        ) from None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def positive_int(text: str) -> int:
    """A whole number of at least 1, in ASCII digits ('²' is not one), not absurdly long."""
    digits = text.strip()
    if not (0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(digits)


def print_json(value: object) -> None:
    import json

    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def render_table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Plain aligned columns; `right` holds indexes of right-aligned columns."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def add_walk_options(
    parser: argparse.ArgumentParser, *, selection: bool = False, default_here: bool = False
) -> None:
    """PATH... and --all, for subcommands that take files and directories;
    `selection`: also `-` (paths from stdin), -0, --respect-gitignore and
    --force-exclude (cli/paths); `default_here`: no PATH means `.` (check,
    as `ruff check`; a command that writes files asks for its paths)."""
    if not selection:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files and directories")
    elif default_here:
        parser.add_argument(
            "paths",
            nargs="*",
            default=["."],
            metavar="PATH",
            help="files and directories (default: the current folder, .); - reads paths "
            "from stdin, one a line",
        )
    else:
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="PATH",
            help="files and directories; - reads paths from stdin, one a line",
        )
    parser.add_argument(
        "--all", action="store_true", help="look at every file, not only image extensions"
    )
    if not selection:
        return
    parser.add_argument(
        "-0",
        "--null",
        dest="null",
        action="store_true",
        help="paths on stdin are separated by NUL bytes (find -print0), not lines",
    )
    parser.add_argument(
        "--respect-gitignore",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip files git ignores when walking directories (default: on, inside a git "
        "work tree)",
    )
    parser.add_argument(
        "--force-exclude",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="apply the configured exclude globs to files named outright too (pre-commit)",
    )


def add_max_bytes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-bytes",
        type=positive_int,
        metavar="N",
        help="per-image limit in bytes of base64 text (default: the surface's)",
    )


def walk_files(root: Path, every_file: bool, skip: FileId | None = None) -> Iterator[Path]:
    """preflight._inputs.walking.walk_files, imported when first used."""
    from preflight._inputs.walking import walk_files as walking_walk_files

    return walking_walk_files(root, every_file, skip)


def display_path(path: str) -> str:
    """A path as one line of text output: control characters (a newline in a
    file name would forge a line) and undecodable bytes shown escaped."""
    return display_text(path)
