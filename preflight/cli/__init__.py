"""The command line, the top layer: the `preflight` command and its entry points.

It may import every layer below it (preflight._runs, _requests, _imaging,
_inputs, _core, and preflight.errors); within the library only
preflight.__main__ imports it, and the installed `preflight` command runs
it. Rules: each subcommand lives in its own module with
add_parser(subparsers) and run(args) -> exit code; this module only wires
them together and turns errors into one line and an exit code (see _common).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from preflight._version import __version__
from preflight.cli import _check, _common, _estimate, _explain, _pack, _prepare, _request, _rule
from preflight.errors import PreflightError, UsageError

# Start-up (docs/speed.md): importing this package and building the parser
# loads argparse, the model table and the subcommands' flag definitions,
# nothing more; each subcommand imports what it runs inside run(), so
# `--version` and `--help` never load an image library, the batch engine or
# a process pool (tests/test_startup.py holds the set).
SUBCOMMANDS = [_estimate, _check, _prepare, _request, _pack, _rule, _explain]


def build_parser() -> argparse.ArgumentParser:
    parser = _common.ArgumentParser(
        prog="preflight",
        description="Check, price and fix images before they are sent to Claude's vision API.",
    )
    parser.add_argument("--version", action="version", version=f"preflight {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A file name that is not valid UTF-8 (or not in the terminal's encoding)
    # is printed escaped, never a UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    from preflight._imaging import interrupts
    from preflight._inputs.config import load_models

    try:
        if getattr(args, "configurable", None) is not None:
            # Settings (and models) from the file found above the paths, or
            # --config's; they become the subcommand's defaults: flags win.
            args = _common.configure(parser, args, argv)
        else:
            # Models and prices from the project's configuration and PREFLIGHT_MODELS.
            load_models(Path.cwd())
        # -o FILE: stdout is the file while the command runs (cli/_common).
        with interrupts.installed(), _common.output_to(args):
            if getattr(args, "show_settings", False):
                code: int = _common.show_settings(args)
            else:
                code = args.run(args)
            interrupts.checkpoint()
    except PreflightError as error:
        # The caller's mistakes exit 2; bad data or a failing engine exit 1.
        message = _common.display_path(str(error))
        print(f"preflight {args.command}: error: {message}", file=sys.stderr)
        return _common.EXIT_USAGE if isinstance(error, UsageError) else _common.EXIT_REJECTED
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, _common.Terminated)
        print(f"preflight: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return _common.EXIT_TERMINATED if terminated else _common.EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do,
        # and keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _common.EXIT_OK
    return code


def entry_point() -> None:
    code = main()
    if code in (_common.EXIT_INTERRUPTED, _common.EXIT_TERMINATED):
        # Interrupted: every file is closed and the message printed. Leave
        # now, without the interpreter's exit-time joins: a worker killed
        # while it was sending a result leaves half a message in the pool's
        # pipe, and concurrent.futures would wait for the rest forever.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
