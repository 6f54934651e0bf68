"""The exception hierarchy: at most fourteen classes in two branches, each
with its codes; the finer kinds 0.2 had as classes are codes on the
instance; 0.2's names stay importable, with a warning, for one release; one
UsageError; no bare built-in error for bad data or arguments."""

from __future__ import annotations

import ast
import pickle
import warnings
from pathlib import Path

import pytest

import preflight
import preflight._imaging.engines
import preflight.cli
from preflight import errors
from preflight._core.blocks import media_type
from preflight._core.headers import parse
from preflight._runs.parallel import ordered_map
from preflight.cli import _common, main

ROOT = Path(__file__).resolve().parent.parent
BRANCHES = (errors.UsageError, errors.DataError)


def hierarchy() -> set[type[errors.PreflightError]]:
    # Every class under the root, wherever it is defined: the CLI and the
    # engines are loaded, so a class of theirs would count too.
    assert preflight.cli and preflight._imaging.engines
    found: set[type[errors.PreflightError]] = set()
    todo: list[type[errors.PreflightError]] = [errors.PreflightError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_at_most_fourteen_classes_each_with_its_codes() -> None:
    classes = hierarchy()
    assert len(classes) <= 14
    # They are all defined in preflight.errors and listed there.
    assert {cls.__name__ for cls in classes} == set(errors.__all__)
    assert all(cls.__module__ == "preflight.errors" for cls in classes)
    seen: dict[str, type] = {}
    for cls in classes:
        assert cls.codes and cls.code == cls.codes[0], cls
        for code in cls.codes:
            assert code == code.lower() and " " not in code and "_" not in code, code
            assert code not in seen, f"{code}: {cls.__name__} and {seen[code].__name__}"
            seen[code] = cls


def test_two_branches_and_the_built_ins_callers_rely_on() -> None:
    for cls in hierarchy() - {errors.PreflightError, *BRANCHES}:
        assert sum(issubclass(cls, branch) for branch in BRANCHES) == 1, cls
    for cls in (
        errors.InvalidArgumentError,
        errors.ConfigError,
        errors.UnknownNameError,
        errors.HeaderError,
        errors.DecodeError,
        errors.ByteBudgetError,
        errors.SizesFileError,
    ):
        assert issubclass(cls, ValueError), cls
    for cls in (errors.SourceError, errors.WriteError, errors.EngineError):
        assert issubclass(cls, OSError), cls
    assert issubclass(errors.MissingExtraError, ImportError)
    assert issubclass(errors.ConfigError, errors.InvalidArgumentError)


def test_an_instance_carries_a_finer_code_of_its_class() -> None:
    assert errors.HeaderError("x").code == "bad-header"
    truncated = errors.HeaderError("cut short", code="truncated")
    assert truncated.code == "truncated" and str(truncated) == "cut short"
    assert errors.HeaderError.code == "bad-header"  # the class keeps its own
    with pytest.raises(ValueError, match="HeaderError has no code 'over-pixel-cap'"):
        errors.HeaderError("x", code="over-pixel-cap")
    # OSError's arguments are left as they are.
    crashed = errors.EngineError("worker died", code="worker-crashed")
    assert (crashed.code, crashed.args, crashed.errno) == ("worker-crashed", ("worker died",), None)


@pytest.mark.parametrize(
    "error",
    [
        errors.HeaderError("cut", code="truncated"),
        errors.EngineError("died", code="worker-crashed"),
        errors.SourceError("gone"),
        errors.MissingExtraError("pip install x", code="engine-unavailable"),
        errors.UnknownNameError("model", "nope", ["a", "b"], "Pass a price."),
        errors.UsageError("bad flag", code="bad-command-line"),
    ],
)
def test_errors_cross_a_process_boundary_with_their_code(error: errors.PreflightError) -> None:
    # Worker processes send errors back pickled (preflight._runs.parallel).
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert (again.code, str(again)) == (error.code, str(error))


@pytest.mark.parametrize("name", sorted(errors.DEPRECATED_NAMES))
def test_a_merged_name_warns_and_is_the_class_it_joined(name: str) -> None:
    merged, code = errors.DEPRECATED_NAMES[name]
    assert merged.__name__ in errors.__all__ and code in merged.codes
    with pytest.warns(DeprecationWarning, match=rf"{name} is deprecated.*{merged.__name__}"):
        assert getattr(errors, name) is merged
    namespace: dict[str, object] = {}
    with pytest.warns(DeprecationWarning, match=name):
        exec(f"from preflight.errors import {name}", namespace)
    assert namespace[name] is merged
    # The same name read from preflight itself: one warning, naming the new home.
    with pytest.warns(DeprecationWarning, match=rf"preflight\.errors\.{merged.__name__}") as got:
        assert getattr(preflight, name) is merged
    assert len(got) == 1


def test_a_name_never_defined_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        errors.NoSuchError  # type: ignore[attr-defined]  # noqa: B018


def raised_codes() -> list[tuple[str, int, str, str]]:
    """(file, line, class, code) for every `SomeError(..., code="...")` in the package."""
    found = []
    for path in sorted((ROOT / "preflight").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Module constants a raiser may name the code by (BAD_COMMAND_LINE = "...").
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in errors.__all__:
                continue
            for keyword in node.keywords:
                if keyword.arg == "code":
                    value = keyword.value
                    if isinstance(value, ast.Name):
                        code = constants.get(value.id)
                    else:
                        code = value.value if isinstance(value, ast.Constant) else None
                    found.append((str(path.relative_to(ROOT)), node.lineno, name, code))
    return found


def test_every_code_a_raiser_names_is_one_its_class_has() -> None:
    found = raised_codes()
    assert len(found) >= 40  # the header parser alone names dozens
    for where, line, name, code in found:
        cls = getattr(errors, name)
        assert code in cls.codes, f"{where}:{line}: {name}(..., code={code!r})"


def test_the_package_uses_no_deprecated_name() -> None:
    for path in sorted((ROOT / "preflight").rglob("*.py")):
        if path.name in ("errors.py", "__init__.py") and path.parent.name == "preflight":
            continue  # where the aliases are defined
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                names.update(alias.name for alias in node.names)
        used = sorted(names & set(errors.DEPRECATED_NAMES))
        assert not used, f"{path.relative_to(ROOT)}: {used}"


def test_parser_errors_say_which_kind() -> None:
    with pytest.raises(errors.HeaderError) as empty:
        parse(b"", complete=True)
    with pytest.raises(errors.HeaderError) as unknown:
        parse(b"not an image at all", complete=True)
    with pytest.raises(errors.HeaderError) as cut:
        parse(b"\x89PNG\r\n\x1a\n\x00\x00", complete=True)
    assert (empty.value.code, unknown.value.code, cut.value.code) == (
        "empty",
        "not-an-image",
        "truncated",
    )


def test_one_usage_error() -> None:
    assert _common.UsageError is errors.UsageError is preflight.UsageError
    error = _common.command_line_error("give sizes")
    assert type(error) is errors.UsageError and error.code == "bad-command-line"


def test_a_bad_command_line_exits_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "12 by 7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad size '12 by 7'" in err


def test_request_without_a_known_model_warns_and_a_bad_price_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"model": "acme-1", "max_tokens": 10, "messages": []}')
    main(["request", str(body)])
    assert "model 'acme-1' is not in preflight's table" in capsys.readouterr().err
    # A bad --price is the caller's mistake, not an unknown model to warn about.
    assert main(["request", str(body), "--price", "-1"]) == 2
    err = capsys.readouterr().err
    assert "not in preflight's table" not in err and "non-negative" in err


def test_no_bare_built_in_error_for_bad_arguments() -> None:
    with pytest.raises(errors.InvalidArgumentError, match="not a media type"):
        media_type("image/bmp")
    with pytest.raises(errors.InvalidArgumentError, match="at least 1"):
        list(ordered_map(abs, [1, 2], jobs=0))
    for call in (
        lambda: preflight.parse_target(800),  # type: ignore[arg-type]
        lambda: preflight.target_size(10, 10, 800),  # type: ignore[arg-type]
        lambda: preflight.target_size(10, 10, "box", box=(10,)),  # type: ignore[arg-type]
        lambda: preflight.Target("box", box=(1, 2, 3)),  # type: ignore[arg-type]
    ):
        with pytest.raises(errors.InvalidArgumentError):
            call()


def test_merged_kinds_keep_their_codes_end_to_end(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgumentError) as caught:
        preflight.estimate(0, 10)
    assert caught.value.code == "invalid-size"
    with pytest.raises(errors.HeaderError) as header:
        preflight.probe(b"")
    assert header.value.code == "empty"
    with pytest.raises(errors.SourceError) as missing:
        preflight.probe(tmp_path / "missing.png")
    assert missing.value.code == "unreadable"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the package itself uses no deprecated name
        with pytest.raises(errors.DecodeError) as capped:
            preflight.prepare(ROOT / "fixtures" / "samples" / "photo-800x600.jpg", pixel_cap=1000)
    assert capped.value.code == "over-pixel-cap"
