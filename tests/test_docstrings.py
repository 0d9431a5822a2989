"""numpydoc coverage of the public API of ``lobutils``.

Every public object (a name in the module's ``__all__``, or, without one, any name not starting
with an underscore) that a module defines is checked:

- it has a docstring;
- a function or method with parameters has a ``Parameters`` section naming each of them (for a
  class, the docstring names the constructor's parameters under ``Parameters`` or
  ``Attributes``);
- a function that returns a value has a ``Returns`` section, and a generator a ``Yields`` one.

The modules in ``DOCUMENTED`` must pass in full. The coverage of the others is printed (run
``python tests/test_docstrings.py``, or pytest with ``-s``), so that a module joins
``DOCUMENTED`` once it reaches 100%. Every module must also have a module docstring and
``__all__`` (the modules in ``MISSING_ALL`` do not have ``__all__`` yet; the list may only
shrink).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
import textwrap
import types
import warnings
from dataclasses import dataclass

import pytest

import lobutils

# Modules whose every public object passes the checks below. Add a module once it does.
DOCUMENTED = [
    "lobutils.schema",
    "lobutils.paths",
    "lobutils.book",
    "lobutils.book._replay_kernels",
    "lobutils.book.market",
    "lobutils.book.replay",
    "lobutils.book.sampling",
    "lobutils.features.core",
    "lobutils.features.targets",
    "lobutils.features.stationarity",
    "lobutils.plots.style",
    "lobutils.plots.book",
    "lobutils.report",
    "lobutils.data.archives.bybit",
    "lobutils.acquire.collect",
    "lobutils.acquire.recorder",
    "lobutils.acquire.replay_server",
    "lobutils.data.binance",
    "lobutils.runner.batch.cli",
    "lobutils.runner.batch.cluster",
    "lobutils.runner.batch.driver",
    "lobutils.runner.batch.execute",
    "lobutils.runner.batch.grid",
    "lobutils.runner.batch.tables",
    "lobutils.runner.cli_acquire",
    "lobutils.markets",
    "lobutils.evaluation._checks",
    "lobutils.evaluation.baselines",
    "lobutils.evaluation.inference",
    "lobutils.evaluation.metrics",
    "lobutils.evaluation.pnl",
    "lobutils.evaluation.results",
    "lobutils.evaluation.scaling",
    "lobutils.evaluation.splits",
    "lobutils.features.dataset",
    "lobutils.features._kernels",
    "lobutils.models.zoo",
    "lobutils.models.crossmarket",
    "lobutils.trading.backtest",
    "lobutils.trading.execution",
    "lobutils.trading._kernels",
    "lobutils.data._binance_kernels",
    "lobutils.data.catalog",
    "lobutils.data.lake",
    "lobutils.data.archives",
    "lobutils.data.archives._bybit_kernels",
    "lobutils.data.archives._common",
    "lobutils.data.archives._csv",
    "lobutils.data.archives.binance_vision",
    "lobutils.data.archives.tardis",
    "lobutils.acquire.download",
    "lobutils.runner.chapters",
    "lobutils.runner.cli_archives",
    "lobutils.plots.models",
    "lobutils.plots.trading",
    "lobutils.models.backend",
    "lobutils.models.deeplob",
    "lobutils.models.fi2010",
    "lobutils.models.leakage",
    "lobutils.models.runs",
    "lobutils.models.study",
    "lobutils.models.training",
    "lobutils.models.volume",
    "lobutils.models.windows",
    "lobutils.plots.batch",
    "lobutils.plots.deep",
    "lobutils.plots.features",
    "lobutils.features.analysis",
    "lobutils.book.survey",
    "lobutils.book.diagnostics",
    "lobutils.runner.digest",
    "lobutils.trading.study",
    "lobutils.trading.liquidation",
    "lobutils.trading.verdicts",
    "lobutils.trading.tables",
    "lobutils.acquire.polls",
    "lobutils.acquire.rank",
    "lobutils.acquire.redact",
    "lobutils.book.export",
    "lobutils.data.checks",
    "lobutils.runner.cli",
    "lobutils.runner.errors",
]

# Modules without ``__all__`` yet. Remove a module from this list when it gets one.
MISSING_ALL = []

# Modules without a module docstring yet. Same rule.
MISSING_DOCSTRING: list[str] = []

# Running ``python -m lobutils`` executes the command line: the module is read, never imported.
NOT_IMPORTED = {"lobutils.__main__"}

_SECTION = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n(?P<rule>-{3,})$", re.MULTILINE)
PARAMETER_SECTIONS = ("Parameters", "Other Parameters", "Keyword Arguments")
CLASS_SECTIONS = (*PARAMETER_SECTIONS, "Attributes")


def module_names() -> list[str]:
    """Every module of ``lobutils``, the package itself first.

    Returns
    -------
    list of str
        Dotted module names, private modules included.
    """
    found = pkgutil.walk_packages(lobutils.__path__, "lobutils.")
    return ["lobutils", *sorted(m.name for m in found)]


def load(name: str) -> types.ModuleType:
    """Import a module of ``lobutils``; ``__main__`` is compiled from source, not executed.

    Parameters
    ----------
    name : str
        Dotted module name.

    Returns
    -------
    types.ModuleType
        The module (for ``__main__``, a module holding only its docstring).
    """
    if name not in NOT_IMPORTED:
        return importlib.import_module(name)
    spec = importlib.util.find_spec(name)
    module = types.ModuleType(name)
    tree = ast.parse(spec.loader.get_source(name))
    module.__doc__ = ast.get_docstring(tree)
    if any(
        isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        for node in tree.body
    ):
        module.__all__ = []
    return module


def sections(doc: str) -> dict[str, str]:
    """Split a numpydoc docstring into its sections.

    Parameters
    ----------
    doc : str
        The docstring (indentation is removed here).

    Returns
    -------
    dict of str to str
        Section title (``"Parameters"``, ``"Returns"``, ...) to the section's body.

    Examples
    --------
    >>> sorted(sections("Sum.\\n\\nParameters\\n----------\\nx : int\\n    A number.\\n"))
    ['Parameters']
    """
    text = inspect.cleandoc(doc)
    heads = list(_SECTION.finditer(text))
    out = {}
    for head, nxt in zip(heads, [*heads[1:], None], strict=False):
        end = nxt.start() if nxt is not None else len(text)
        out[head["title"].strip()] = text[head.end() : end]
    return out


def documented_names(body: str) -> set[str]:
    """Names that a ``Parameters``-like section documents.

    Parameters
    ----------
    body : str
        The section body: ``name : type`` lines at the left margin, descriptions indented.

    Returns
    -------
    set of str
        Every name, ``a, b : int`` giving both and ``*args`` giving ``args``.

    Examples
    --------
    >>> sorted(documented_names("a, b : int\\n    Two.\\n**kwargs\\n    More."))
    ['a', 'b', 'kwargs']
    """
    names = set()
    for line in body.splitlines():
        if not line.strip() or line[0].isspace():
            continue
        for name in line.split(" : ")[0].split(","):
            names.add(name.strip().lstrip("*"))
    return names


def _own_nodes(fn: ast.AST):
    """Nodes of a function's body, without those of nested functions, lambdas and classes."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def output_kind(func) -> str | None:
    """What a function hands back, read from its source.

    Parameters
    ----------
    func : callable
        A Python function (a numba dispatcher's ``py_func`` is read in its place).

    Returns
    -------
    str or None
        ``"Yields"`` for a generator, ``"Returns"`` when some ``return`` carries a value other
        than ``None``, else ``None``.
    """
    func = inspect.unwrap(getattr(func, "py_func", func))
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None
    tree = ast.parse(source).body[0]
    nodes = list(_own_nodes(tree))
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes):
        return "Yields"
    for n in nodes:
        if isinstance(n, ast.Return) and n.value is not None:
            if not (isinstance(n.value, ast.Constant) and n.value.value is None):
                return "Returns"
    return None


def parameter_names(func, *, skip_first: bool = False) -> list[str]:
    """Parameters of a callable that its docstring must name.

    Parameters
    ----------
    func : callable
        Function, method or class.
    skip_first : bool
        Drop the first parameter (``self`` or ``cls`` of a method).

    Returns
    -------
    list of str
        Parameter names without stars.
    """
    try:
        params = list(inspect.signature(getattr(func, "py_func", func)).parameters)
    except (TypeError, ValueError):
        return []
    return params[1:] if skip_first else params


@dataclass(frozen=True)
class Problem:
    """One missing piece of documentation.

    Parameters
    ----------
    where : str
        Dotted name of the object.
    what : str
        What is missing.
    """

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def check_function(where: str, func, doc: str | None, *, method: bool = False) -> list[Problem]:
    """Problems of one function or method.

    Parameters
    ----------
    where : str
        Dotted name, for the messages.
    func : callable
        The function.
    doc : str or None
        Its docstring.
    method : bool
        The first parameter is ``self`` or ``cls`` and needs no entry.

    Returns
    -------
    list of Problem
        Empty when the docstring is complete.
    """
    if not doc:
        return [Problem(where, "no docstring")]
    found = sections(doc)
    problems = []
    params = parameter_names(func, skip_first=method)
    named = set().union(*(documented_names(found.get(s, "")) for s in PARAMETER_SECTIONS))
    missing = [p for p in params if p not in named]
    if missing:
        problems.append(Problem(where, f"Parameters lacks {', '.join(missing)}"))
    kind = output_kind(func)
    if kind == "Returns" and "Returns" not in found:
        problems.append(Problem(where, "no Returns section"))
    if kind == "Yields" and not {"Yields", "Returns"} & set(found):
        problems.append(Problem(where, "no Yields section"))
    return problems


def check_class(where: str, cls: type) -> list[Problem]:
    """Problems of a class: its docstring, constructor parameters and public methods.

    Parameters
    ----------
    where : str
        Dotted name, for the messages.
    cls : type
        The class.

    Returns
    -------
    list of Problem
        Empty when the class and its own public methods are documented.
    """
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return [Problem(where, "no docstring")]
    problems = []
    ctor = next((cls.__dict__[k] for k in ("__init__", "__new__") if k in cls.__dict__), None)
    if ctor is not None and not issubclass(cls, BaseException):
        found = sections(doc)
        named = set().union(*(documented_names(found.get(s, "")) for s in CLASS_SECTIONS))
        ctor = ctor.__func__ if isinstance(ctor, staticmethod) else ctor
        missing = [p for p in parameter_names(ctor, skip_first=True) if p not in named]
        if missing:
            problems.append(Problem(where, f"Parameters lacks {', '.join(missing)}"))
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        sub = f"{where}.{name}"
        if isinstance(attr, property):
            if not attr.__doc__:
                problems.append(Problem(sub, "no docstring"))
        elif isinstance(attr, staticmethod):
            problems += check_function(sub, attr.__func__, attr.__func__.__doc__)
        elif isinstance(attr, classmethod):
            problems += check_function(sub, attr.__func__, attr.__func__.__doc__, method=True)
        elif inspect.isfunction(attr):
            problems += check_function(sub, attr, attr.__doc__, method=True)
    return problems


def public_objects(module: types.ModuleType) -> list[tuple[str, object]]:
    """Public functions and classes that a module defines (re-exports are checked where defined).

    Parameters
    ----------
    module : types.ModuleType
        The module.

    Returns
    -------
    list of tuple of (str, object)
        Name and object, in ``__all__`` order or by name.
    """
    names = getattr(module, "__all__", None)
    if names is None:
        names = sorted(n for n in vars(module) if not n.startswith("_"))
    out = []
    for name in names:
        obj = getattr(module, name, None)
        target = getattr(obj, "py_func", obj)
        if not (inspect.isclass(target) or inspect.isfunction(target)):
            continue
        if getattr(target, "__module__", None) != module.__name__:
            continue
        out.append((name, obj))
    return out


def module_problems(name: str) -> tuple[int, list[Problem]]:
    """Check every public object of one module.

    Parameters
    ----------
    name : str
        Dotted module name.

    Returns
    -------
    n_objects : int
        Public objects checked (methods count with their class).
    problems : list of Problem
        What is missing.
    """
    module = load(name)
    problems = []
    objects = public_objects(module)
    for obj_name, obj in objects:
        where = f"{name}.{obj_name}"
        if inspect.isclass(obj):
            problems += check_class(where, obj)
        else:
            target = getattr(obj, "py_func", obj)
            problems += check_function(where, obj, target.__doc__)
    return len(objects), problems


def coverage_report() -> str:
    """A table of the objects with complete docstrings, per module outside ``DOCUMENTED``.

    Returns
    -------
    str
        One line per module: complete objects over public objects.
    """
    lines = []
    for name in module_names():
        if name in DOCUMENTED or name in NOT_IMPORTED:
            continue
        n, problems = module_problems(name)
        bad = len({p.where.split(".")[len(name.split("."))] for p in problems})
        share = f"{(n - bad) / n:6.0%}" if n else "     -"
        lines.append(f"{name:45s} {n - bad:3d}/{n:3d} {share}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_module_is_complete(name):
    n, problems = module_problems(name)
    assert n > 0 or name == "lobutils.book", f"{name} has no public object to check"
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("name", module_names())
def test_module_has_docstring_and_all(name):
    module = load(name)
    if name not in MISSING_DOCSTRING:
        assert module.__doc__ and module.__doc__.strip(), f"{name} has no module docstring"
    if name not in MISSING_ALL:
        assert isinstance(getattr(module, "__all__", None), list | tuple), f"{name}: no __all__"
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert not missing, f"{name}.__all__ names what it lacks: {missing}"


def test_allow_lists_only_shrink():
    """The exception lists above name real modules; an entry no longer needed is reported.

    A stale entry (a module that has ``__all__`` or a docstring now, or that was renamed) warns
    rather than fails, so that work in other modules never breaks this test: remove it.
    """
    names = set(module_names())
    assert not set(DOCUMENTED) & set(MISSING_ALL)
    missing = sorted(set(DOCUMENTED) - names)
    assert not missing, f"DOCUMENTED names modules that do not exist: {missing}"
    stale = sorted(set(MISSING_ALL) - names)
    stale += [n for n in MISSING_ALL if n in names and hasattr(load(n), "__all__")]
    stale += [n for n in MISSING_DOCSTRING if n not in names or load(n).__doc__]
    for name in stale:
        warnings.warn(f"{name}: remove it from MISSING_ALL / MISSING_DOCSTRING", stacklevel=1)


def test_checker_on_known_cases():
    """The checker itself, on small functions written for the test."""

    def good(a, *args, b=1, **kwargs):
        """Sum.

        Parameters
        ----------
        a, b : int
            Numbers.
        *args, **kwargs
            Ignored.

        Returns
        -------
        int
            The sum.
        """
        return a + b

    def bad(a, b):
        """Sum, undocumented parameters."""
        return a + b

    def gen(n):
        """Count.

        Parameters
        ----------
        n : int
            How far.
        """
        yield from range(n)

    def nothing(x):
        """Nothing back.

        Parameters
        ----------
        x : object
            Ignored.
        """
        if x:
            return
        return None

    assert check_function("good", good, good.__doc__) == []
    assert [p.what for p in check_function("bad", bad, bad.__doc__)] == [
        "Parameters lacks a, b",
        "no Returns section",
    ]
    assert [p.what for p in check_function("gen", gen, gen.__doc__)] == ["no Yields section"]
    assert check_function("nothing", nothing, nothing.__doc__) == []
    assert check_function("none", nothing, None) == [Problem("none", "no docstring")]


def test_every_module_with_public_objects_is_documented():
    """A new module joins ``DOCUMENTED``: nothing public goes without numpydoc sections."""
    undocumented = [
        name for name in module_names() if name not in DOCUMENTED and module_problems(name)[0] > 0
    ]
    assert undocumented == [], coverage_report()


if __name__ == "__main__":
    print(coverage_report())
    for name in DOCUMENTED:
        for problem in module_problems(name)[1]:
            print(problem)
