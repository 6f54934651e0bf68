"""Finds, in the package's own source, every code preflight can emit: the
code of each `Finding(...)` (or `replace(..., code=...)`), each error
class's `code = "..."`, and each `Action(...)` of prepare. Read with `ast`,
never imported, so a code nobody calls in the tests is still seen.

A code written as a literal, a module constant (also imported from another
module, or `module.NAME`), a local variable assigned from those (tuple
assignments included) or a parameter of the enclosing function (then every
call of that function in the package is followed) is resolved. What cannot
be resolved is listed as an unresolved site: tests/test_catalogue_complete.py
accepts only the sites it names, each with its reason."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

_DEPTH = 6  # how many calls deep a parameter is followed


@dataclass(frozen=True)
class Site:
    """Where a code is emitted: a file relative to the root, a line, and the
    function that holds it (None at module or class level)."""

    path: str
    line: int
    function: str | None


@dataclass
class Scan:
    findings: dict[str, list[Site]] = field(default_factory=dict)  # Finding(...) codes
    errors: dict[str, list[Site]] = field(default_factory=dict)  # class `code = "..."`
    actions: dict[str, list[Site]] = field(default_factory=dict)  # Action(...) codes
    unresolved: list[tuple[Site, str]] = field(default_factory=list)  # (site, expression)

    @property
    def codes(self) -> set[str]:
        """Every finding and error code (not prepare's action codes)."""
        return set(self.findings) | set(self.errors)


@dataclass
class _Module:
    name: str  # dotted
    path: str
    tree: ast.Module
    constants: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted target


def scan_package(root: Path, package: str) -> Scan:
    """Scan every module of `package` (a folder under `root`)."""
    sources = {
        ".".join(path.relative_to(root).with_suffix("").parts): (
            path.relative_to(root).as_posix(),
            path.read_text(encoding="utf-8"),
        )
        for path in sorted((root / package).rglob("*.py"))
    }
    return scan_sources(sources)


def scan_sources(sources: Mapping[str, tuple[str, str]]) -> Scan:
    """Scan modules given as {dotted name: (path, source text)}."""
    modules = {}
    for dotted, (path, text) in sources.items():
        name = dotted.removesuffix(".__init__")
        module = _Module(name, path, ast.parse(text, path))
        _read_top_level(module, is_package=dotted.endswith("__init__"))
        modules[name] = module
    return _Scanner(modules).run()


def _read_top_level(module: _Module, *, is_package: bool) -> None:
    package = module.name if is_package else module.name.rpartition(".")[0]
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and node.value is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    module.constants[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                module.constants[node.target.id] = node.value
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                module.imports[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    module.imports[alias.asname] = alias.name


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if position < len(call.args) and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


class _Scanner:
    def __init__(self, modules: dict[str, _Module]) -> None:
        self.modules = modules
        self.scan = Scan()
        # Every function of the package by name, with its module, for
        # following a parameter to the calls that give it.
        self.calls: dict[str, list[tuple[_Module, ast.Call, ast.AST | None]]] = {}
        bases: dict[str, set[str]] = {}
        for module in modules.values():
            for node, function in _walk(module.tree, None):
                if isinstance(node, ast.ClassDef):
                    bases.setdefault(node.name, set()).update(
                        b.id if isinstance(b, ast.Name) else b.attr
                        for b in node.bases
                        if isinstance(b, (ast.Name, ast.Attribute))
                    )
                elif isinstance(node, ast.Call):
                    name = _callee(node)
                    if name is not None:
                        self.calls.setdefault(name, []).append((module, node, function))
        # The exception classes: a class whose base is one (or a built-in
        # ...Error / ...Exception), to a fixed point.
        self.errors: set[str] = set()
        grew = True
        while grew:
            before = len(self.errors)
            self.errors |= {
                name
                for name, parents in bases.items()
                if any(p in self.errors or p.endswith(("Error", "Exception")) for p in parents)
            }
            grew = len(self.errors) != before

    def run(self) -> Scan:
        for module in self.modules.values():
            for node, function in _walk(module.tree, None):
                name = getattr(function, "name", None)
                site = Site(module.path, getattr(node, "lineno", 0), name)
                if isinstance(node, ast.Call):
                    callee = _callee(node)
                    if callee in ("Finding", "Action"):
                        target = self.scan.findings if callee == "Finding" else self.scan.actions
                        self._emit(target, _argument(node, 0, "code"), module, function, site)
                    elif any(k.arg == "code" for k in node.keywords) and (
                        callee == "replace" or callee in self.errors
                    ):
                        # replace(finding, code=...), or an error made with a
                        # finer code of its class: SomeError(..., code=...).
                        # (A function's code= is followed from inside it.)
                        target = self.scan.findings if callee == "replace" else self.scan.errors
                        code = _argument(node, 10**6, "code")
                        self._emit(target, code, module, function, site)
                elif isinstance(node, ast.ClassDef):
                    for item in node.body:
                        for value in _class_codes(item):
                            line = Site(module.path, item.lineno, None)
                            self._emit(self.scan.errors, value, module, None, line)
        return self.scan

    def _emit(
        self,
        target: dict[str, list[Site]],
        expr: ast.expr | None,
        module: _Module,
        function: ast.AST | None,
        site: Site,
    ) -> None:
        codes = None if expr is None else self._resolve(expr, module, function, _DEPTH)
        if codes is None:
            shown = "<missing>" if expr is None else ast.unparse(expr)
            self.scan.unresolved.append((site, shown))
            return
        for code in codes:
            target.setdefault(code, []).append(site)

    def _resolve(
        self, expr: ast.expr, module: _Module, function: ast.AST | None, depth: int
    ) -> set[str] | None:
        if depth < 0:
            return None
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return _union(
                self._resolve(expr.body, module, function, depth),
                self._resolve(expr.orelse, module, function, depth),
            )
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr.id, module, function, depth)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            target = module.imports.get(expr.value.id, expr.value.id)
            if target in self.modules:
                return self._resolve_name(expr.attr, self.modules[target], None, depth - 1)
        return None

    def _resolve_name(
        self, name: str, module: _Module, function: ast.AST | None, depth: int
    ) -> set[str] | None:
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            keywords = [a.arg for a in function.args.kwonlyargs]
            if name in parameters or name in keywords:
                return self._resolve_parameter(function, name, parameters, depth)
            assigned = list(_assignments(function, name))
            if assigned:
                found: set[str] | None = set()
                for value in assigned:
                    found = _union(found, self._resolve(value, module, function, depth))
                return found
        if name in module.constants:
            return self._resolve(module.constants[name], module, None, depth - 1)
        target = module.imports.get(name)
        if target is not None:
            owner, _, attribute = target.rpartition(".")
            if owner in self.modules:
                return self._resolve_name(attribute, self.modules[owner], None, depth - 1)
        return None

    def _resolve_parameter(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        name: str,
        parameters: list[str],
        depth: int,
    ) -> set[str] | None:
        """The values every call of `function` in the package passes for `name`."""
        position = parameters.index(name) if name in parameters else 10**6
        if parameters and parameters[0] in ("self", "cls"):
            position -= 1
        default = _default(function, name)
        found: set[str] | None = set()
        callers = self.calls.get(function.name, [])
        if not callers:
            return None
        for module, call, caller in callers:
            value = _argument(call, position, name)
            if value is None:
                value = default
            if value is None:
                return None
            found = _union(found, self._resolve(value, module, caller, depth - 1))
        return found


def _union(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    return None if a is None or b is None else a | b


def _class_codes(item: ast.stmt) -> list[ast.expr]:
    """An error class's `code = ...` (its own) and `codes = (...)` (every
    code its instances may carry)."""
    if isinstance(item, ast.Assign):
        names = {t.id for t in item.targets if isinstance(t, ast.Name)}
    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
        names = {item.target.id}
    else:
        return []
    if item.value is None:
        return []
    if "code" in names:
        return [item.value]
    if "codes" in names:
        if isinstance(item.value, (ast.Tuple, ast.List)):
            return list(item.value.elts)
        return [item.value]  # not a literal tuple: left unresolved
    return []


def _default(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr | None:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    for arg, default in zip(
        positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
    ):
        if arg.arg == name:
            return default
    for arg, value in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if arg.arg == name:
            return value
    return None


def _assignments(function: ast.AST, name: str) -> Iterator[ast.expr]:
    """The values assigned to local `name` in `function` (tuple assignments
    matched element by element)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield from _matched(target, node.value, name)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            if node.value is not None:
                yield from _matched(node.target, node.value, name)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and any(
            isinstance(t, ast.Name) and t.id == name for t in ast.walk(node.target)
        ):
            # A loop variable takes values from an iterable: not followed.
            yield ast.Name(id="<loop>", ctx=ast.Load())


def _matched(target: ast.expr, value: ast.expr, name: str) -> Iterator[ast.expr]:
    if isinstance(target, ast.Name) and target.id == name:
        yield value
    elif isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                yield from _matched(sub_target, sub_value, name)
        elif any(isinstance(t, ast.Name) and t.id == name for t in target.elts):
            # Unpacked from something that is not a literal tuple: unresolvable.
            yield ast.Name(id="<unpacked>", ctx=ast.Load())


def _walk(node: ast.AST, function: ast.AST | None) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """Every node, with the innermost function that holds it."""
    for child in ast.iter_child_nodes(node):
        inner = child if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        yield child, function
        yield from _walk(child, inner)
