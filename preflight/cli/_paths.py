"""Which files a run looks at: the paths given, folders walked, then filtered.

The paths are given on the command line (or read from stdin with `-`),
directories are walked (cli/_common.walk_files), then what the walk found is
filtered by the configuration's exclude globs and by .gitignore.

Rules:
- a file named outright is always looked at (as ruff does), unless
  --force-exclude: pre-commit names every file, so its hook passes it;
- .gitignore is asked of git itself (`git check-ignore --stdin -z`, one
  call per work tree), so every git rule (nested files, negations, global
  excludes) holds and no new dependency is needed; outside a work tree, or
  without git, nothing is ignored; a walk never enters `.git` then;
- `-` reads paths from stdin, one a line, or NUL-separated with `-0`
  (`find -print0`); they are taken as if given on the command line; the
  list is read within a bound (budgets.MAX_PATH_LIST_BYTES);
- an empty path is a usage error (exit 2): taken as a path it is the
  current folder, and a script whose variable came out empty would walk it
  silently.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from preflight._core.budgets import MAX_PATH_LIST_BYTES
from preflight.cli import _common

# Start-up (docs/speed.md): the selection's globs and subprocess (for git)
# are imported by the functions that use them.

STDIN = "-"


def expand_stdin(paths: Sequence[str], null_separated: bool) -> list[str]:
    """The paths, with `-` replaced by the paths read from stdin."""
    check_paths(paths)
    if STDIN not in paths:
        return list(paths)
    data = sys.stdin.buffer.read(MAX_PATH_LIST_BYTES + 1)
    if len(data) > MAX_PATH_LIST_BYTES:
        raise _common.command_line_error(
            f"more than {MAX_PATH_LIST_BYTES:,} bytes of paths on standard input; "
            "preflight reads no more (give fewer, or folders)"
        )
    if null_separated:
        named = [os.fsdecode(p) for p in data.split(b"\0") if p]
    else:
        named = [os.fsdecode(p.rstrip(b"\r")) for p in data.split(b"\n") if p.strip()]
    expanded: list[str] = []
    for path in paths:
        expanded.extend(named if path == STDIN else [path])
    return expanded


def check_paths(paths: Sequence[str]) -> None:
    """A usage error for an empty path (see the module docstring)."""
    for position, text in enumerate(paths, start=1):
        if text == "":
            raise _common.command_line_error(
                f"path {position} is empty (an empty argument, perhaps a variable that was "
                "not set); name a file or a folder ('.' for the current one)"
            )


@dataclass(frozen=True)
class Candidate:
    path: Path
    root: Path  # the path given (a directory for walked files, else the file)
    walked: bool  # found by walking a directory (not named outright)


def candidates(
    paths: Sequence[str], every_file: bool, skip: _common.FileId | None = None
) -> list[Candidate]:
    """Files named outright, and what walking each directory finds."""
    check_paths(paths)
    found: list[Candidate] = []
    for text in paths:
        root = Path(text)
        if root.is_dir():
            found.extend(
                Candidate(p, root, True) for p in _common.walk_files(root, every_file, skip)
            )
        else:
            found.append(Candidate(root, root, False))  # a missing path: 'unreadable'
    return found


def relative_to(path: Path | str, root: Path | str) -> str:
    """`path` relative to `root` as a POSIX string, or as given when outside it.

    On strings (os.path), not pathlib: a run asks it once or twice per file,
    and 20,000 files made pathlib's parsing a second of the run."""
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    if absolute == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if absolute.startswith(prefix):
        return absolute[len(prefix) :].replace(os.sep, "/")
    return Path(path).as_posix()


def _in_git_folder(candidate: Candidate) -> bool:
    """A walked file inside a `.git` folder under the folder walked."""
    found, root = os.fspath(candidate.path), os.fspath(candidate.root).rstrip(os.sep)
    if root == os.curdir:
        inside = found  # a walk of '.' finds 'a/b.png'
    elif found.startswith(root + os.sep):
        inside = found[len(root) + 1 :]
    else:
        return ".git" in candidate.path.relative_to(candidate.root).parts
    return ".git" in inside.split(os.sep)


def select_files(
    found: Iterable[Candidate],
    *,
    root: Path,
    exclude: Sequence[str],
    force_exclude: bool,
    respect_gitignore: bool,
) -> list[Candidate]:
    """The candidates left after exclude globs and .gitignore (see the module comment)."""
    from preflight._core.selection import glob_matches

    kept: list[Candidate] = []
    for candidate in found:
        if candidate.walked or force_exclude:
            if exclude:
                relative = relative_to(candidate.path, root)
                if any(glob_matches(pattern, relative) for pattern in exclude):
                    continue
            if respect_gitignore and candidate.walked and _in_git_folder(candidate):
                continue
        kept.append(candidate)
    if not respect_gitignore:
        return kept
    # A directory named outright that git itself ignores (build/, a data
    # folder) was asked for: its files are not skipped for being in it.
    asked_for = _ignored_roots({c.root for c in kept if c.walked})
    asked = [c for c in kept if (c.walked and c.root not in asked_for) or force_exclude]
    ignored = git_ignored(asked)
    return [c for c in kept if not ((c.walked or force_exclude) and c.path in ignored)]


def git_ignored(found: Sequence[Candidate]) -> set[Path]:
    """The candidates' paths git ignores, asked of each work tree they are
    in (found once per directory given, or per file named)."""
    import subprocess

    by_tree: dict[str, list[Path]] = {}
    tops: dict[str, str | None] = {}
    for candidate in found:
        where = os.path.abspath(candidate.root if candidate.walked else candidate.path.parent)
        if where not in tops:
            tops[where] = _work_tree(where)
        top = tops[where]
        if top is not None:
            by_tree.setdefault(top, []).append(candidate.path)
    ignored: set[Path] = set()
    for top, members in by_tree.items():
        absolute = {os.path.abspath(p): p for p in members}
        try:
            proc = subprocess.run(
                ["git", "-C", top, "check-ignore", "--stdin", "-z"],
                input=b"".join(os.fsencode(a) + b"\0" for a in absolute),
                capture_output=True,
                check=False,
            )
        except OSError:
            return set()  # no git: nothing is ignored
        if proc.returncode not in (0, 1):
            continue  # git refused (e.g. a path outside the tree): ignore nothing here
        for name in proc.stdout.split(b"\0"):
            decoded = os.fsdecode(name)
            original = absolute.get(decoded) or absolute.get(os.path.join(top, decoded))
            if original is not None:
                ignored.add(original)
    return ignored


def _ignored_roots(roots: set[Path]) -> set[Path]:
    """The directories among `roots` that git ignores."""
    import subprocess

    ignored: set[Path] = set()
    for root in roots:
        top = _work_tree(os.path.abspath(root))
        if top is None:
            continue
        try:
            proc = subprocess.run(
                ["git", "-C", top, "check-ignore", "-q", os.path.abspath(root) + os.sep],
                capture_output=True,
                check=False,
            )
        except OSError:
            return set()
        if proc.returncode == 0:
            ignored.add(root)
    return ignored


def _work_tree(folder: str) -> str | None:
    """The top of the git work tree holding `folder`, or None."""
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", folder, "rev-parse", "--show-toplevel"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return os.fsdecode(proc.stdout.rstrip(b"\n")) or None
