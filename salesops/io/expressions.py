"""The ``derive:`` expressions of mapping files, parsed with :mod:`ast` and evaluated over whitelisted syntax.

A mapping file may come from anyone, so its expressions are data, not code: nothing in one can reach an
attribute, a subscript, an import or a function outside the list below. (Before this module the loader
handed them to ``pandas.eval(engine="python")``, where ``(base_salary).to_csv('x.csv')`` wrote a file.)

Allowed
-------
* numbers (``1000``, ``0.5``, ``1e3``), ``True`` / ``False``, and ``'text'`` only as one side of ``==`` / ``!=``
  (the column on the other side is then compared as text: ``where(Stage == 'Won', Amount, 0)``);
* source column names as the file spells them, spaces and dots included (``Unit Price * Quantity``,
  ``metadata.durationMilliseconds / 1000``); the longest name that matches is taken;
* ``+ - * / // %``, ``**`` with a literal exponent (``x ** 2``, ``x ** -1``, ``x ** 0.5``), unary ``-`` / ``+``;
* comparisons ``== != < <= > >=`` (chains too) and ``and`` / ``or`` / ``not``, element by element;
* the functions ``abs(x)``, ``round(x)`` / ``round(x, n)`` (literal ``n``; halves to even), ``floor(x)``,
  ``ceil(x)``, ``min(a, b, ...)``, ``max(a, b, ...)``, ``where(condition, a, b)`` and
  ``coalesce(a, b, ...)`` (the first that is not missing);
* at most :data:`MAX_LENGTH` characters, nested at most :data:`MAX_DEPTH` deep.

Anything else (attribute access, subscripts, ``lambda``, comprehensions, other calls, keyword arguments,
names that are not columns, ``__dunder__`` names) is refused by :func:`compile_expression` with an
:class:`ExpressionError` that quotes the offending part, before any data is touched.

Semantics
---------
Columns are read as numbers (money strings such as ``"$1,000.50"`` included) into float arrays with NaN for
missing or unreadable cells. Every operation is vectorised (NumPy) and missing propagates: a cell is missing
when any input it depends on is missing (except through ``coalesce``), a comparison or logical result is
1.0 / 0.0, a condition holds where it is not zero, and a result that is infinite (a division by zero, an overflow) is
missing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Expression", "ExpressionError", "columns_in", "compile_expression", "evaluate"]

#: Longest expression accepted, in characters.
MAX_LENGTH = 1000

#: Deepest nesting of the syntax tree accepted (``-(-(-x))`` is 4 deep; ``a + b + c`` is 3).
MAX_DEPTH = 100

#: Function name -> (fewest, most) arguments (``None``: no upper bound).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1), "round": (1, 2), "floor": (1, 1), "ceil": (1, 1),
    "min": (2, None), "max": (2, None), "where": (3, 3), "coalesce": (2, None),
}

ALLOWED = ("numbers, True/False, 'text' on one side of == or !=, source column names, + - * / // % and ** with a "
           "literal exponent, unary -, comparisons, and/or/not, and the functions " + ", ".join(FUNCTIONS))

_ALIAS = "_salesops_column_{}_"
_ALIAS_RE = re.compile(r"_salesops_column_(\d+)_")
_STRING_RE = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
           ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power}
_COMPARE = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
            ast.Gt: np.greater, ast.GtE: np.greater_equal}


class ExpressionError(ValueError):
    """An expression uses syntax outside the whitelist, names no column, or is too long.

    Attributes
    ----------
    reason : str
        What is wrong, quoting the offending part as the mapping file spells it.
    unknown : tuple of str
        Names that are neither a column of the source nor a function (only when nothing else is wrong).
    """

    def __init__(self, reason: str, unknown: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unknown = tuple(unknown)


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its syntax tree (columns renamed) and the source columns it reads."""

    text: str
    tree: ast.Expression
    columns: tuple[str, ...]  # the source column behind alias i

    @property
    def reads(self) -> tuple[str, ...]:
        """Source columns the expression reads."""
        return self.columns


def compile_expression(text: str, columns: Sequence[str]) -> Expression:
    """Parse ``text`` over the source ``columns`` and check every node against the whitelist.

    Column names are found in the text outside quoted strings, longest first, where no letter, digit,
    ``_`` or ``.`` touches them; each becomes an internal identifier, so a name with spaces or dots is
    written as the file spells it.

    Raises
    ------
    ExpressionError
        The text is longer than :data:`MAX_LENGTH`, is not an expression, or uses anything outside the
        whitelist (the message quotes that part); or it names a column the source lacks.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"{len(text):,} characters is longer than the {MAX_LENGTH:,} an expression may have")
    if "_salesops_column_" in text:
        raise ExpressionError("the name '_salesops_column_' is reserved")
    renamed, used = _rename_columns(text, [str(c) for c in columns])
    try:
        tree = ast.parse(renamed.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ExpressionError(f"not a valid expression ({type(exc).__name__}: nested too deeply?)") from None
    if _depth(tree.body) > MAX_DEPTH:
        raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep")
    expression = Expression(text, tree, tuple(used))
    checker = _Checker(expression, renamed.strip())
    checker.visit(tree.body)
    if checker.unknown:
        names = ", ".join(repr(n) for n in checker.unknown)
        raise ExpressionError(f"{names} {'is not a column' if len(checker.unknown) == 1 else 'are not columns'} "
                              "of the source", unknown=checker.unknown)
    return expression


def evaluate(expression: Expression, frame: pd.DataFrame,
             number: Callable[[pd.Series], pd.Series] | None = None) -> pd.Series:
    """Evaluate a compiled expression over ``frame`` element by element; a float Series on ``frame.index``.

    ``number`` reads a column as floats (default ``pd.to_numeric(errors="coerce")``); the loader passes its
    coercion, which also reads money strings and decimal commas.
    """
    to_number = number or (lambda s: pd.to_numeric(s, errors="coerce"))
    evaluator = _Evaluator(expression, frame, to_number)
    with np.errstate(all="ignore"):
        out = evaluator.value(expression.tree.body)
    out = np.where(np.isfinite(out), out, np.nan)
    return pd.Series(out, index=frame.index, dtype=float)


def columns_in(text: str, columns: Sequence[str]) -> list[str]:
    """The source ``columns`` that ``text`` names (outside quoted strings), in order of first use."""
    return _rename_columns(text, [str(c) for c in columns])[1]


# --------------------------------------------------------------------------- parsing


def _rename_columns(text: str, columns: list[str]) -> tuple[str, list[str]]:
    """Replace every column name outside quoted strings by an alias; return the text and the columns used."""
    pieces, last = [], 0
    for match in _STRING_RE.finditer(text):
        pieces.append((text[last:match.start()], False))
        pieces.append((match.group(), True))
        last = match.end()
    pieces.append((text[last:], False))
    used: list[str] = []
    ordered = sorted((c for c in columns if c.strip()), key=len, reverse=True)
    out = []
    for piece, quoted in pieces:
        if not quoted:
            for column in ordered:
                pattern = rf"(?<![\w.]){re.escape(column)}(?![\w.])"
                if column in FUNCTIONS:
                    pattern += r"(?!\s*\()"
                if re.search(pattern, piece):
                    if column not in used:
                        used.append(column)
                    alias = _ALIAS.format(used.index(column))
                    piece = re.sub(pattern, lambda _m, a=alias: a, piece)
        out.append(piece)
    return "".join(out), used


class _Checker(ast.NodeVisitor):
    """Raise :class:`ExpressionError` at the first node outside the whitelist."""

    def __init__(self, expression: Expression, renamed: str) -> None:
        self.expression, self.renamed = expression, renamed
        self.unknown: list[str] = []

    def refuse(self, node: ast.AST, what: str) -> None:
        part = ast.get_source_segment(self.renamed, node) or ""
        part = _ALIAS_RE.sub(lambda m: self.expression.columns[int(m.group(1))], part)
        raise ExpressionError(f"{what} is not allowed, in {part!r}; allowed: {ALLOWED}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.refuse(node, f"attribute access ('.{node.attr}')")

    def generic_visit(self, node: ast.AST) -> None:
        names = {ast.Attribute: "attribute access", ast.Subscript: "a subscript", ast.Lambda: "lambda",
                 ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
                 ast.GeneratorExp: "a comprehension", ast.Starred: "unpacking (*)", ast.NamedExpr: "assignment (:=)",
                 ast.IfExp: "'a if c else b' (use where(c, a, b))", ast.JoinedStr: "an f-string",
                 ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
                 ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice"}
        self.refuse(node, names.get(type(node), type(node).__name__))

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or (isinstance(value, (int, float)) and not isinstance(value, complex)):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**300:
                self.refuse(node, "a number this large")
            return
        if isinstance(value, str):
            self.refuse(node, "text outside a comparison (== or !=)")
        self.refuse(node, f"the literal {value!r}")

    def visit_Name(self, node: ast.Name) -> None:
        match = _ALIAS_RE.fullmatch(node.id)
        if match:
            return
        if node.id in FUNCTIONS:
            self.refuse(node, f"the function name {node.id!r} without a call")
        if node.id.startswith("__") or node.id.endswith("__"):
            self.refuse(node, f"the name {node.id!r}")
        if node.id not in self.unknown:
            self.unknown.append(node.id)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in _BINARY:
            self.refuse(node, f"the operator {type(node.op).__name__}")
        if isinstance(node.op, ast.Pow) and _literal_number(node.right) is None:
            self.refuse(node, "'**' with an exponent that is not a literal number")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            self.refuse(node, f"the operator {type(node.op).__name__}")
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for op in node.ops:
            if type(op) not in _COMPARE:
                self.refuse(node, f"the comparison {type(op).__name__}")
        texts = [i for i, o in enumerate(operands) if isinstance(o, ast.Constant) and isinstance(o.value, str)]
        if texts:
            if len(operands) != 2 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
                self.refuse(node, "comparing text with anything but one == or !=")
            other = operands[1 - texts[0]]
            if not isinstance(other, ast.Name):
                self.refuse(node, "comparing text with anything but a column")
            self.visit(other)
            return
        for operand in operands:
            self.visit(operand)

    def visit_Call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            self.visit(node.func)  # refuses the attribute, lambda, subscript ... being called
            self.refuse(node, "calling anything but a function of the list")
        if node.func.id not in FUNCTIONS:
            if _ALIAS_RE.fullmatch(node.func.id):
                self.refuse(node, "calling a column")
            if node.func.id.startswith("__") or node.func.id.endswith("__"):
                self.refuse(node.func, f"the name {node.func.id!r}")
            self.refuse(node, f"calling {node.func.id!r} (not one of the functions {', '.join(FUNCTIONS)})")
        if node.keywords:
            self.refuse(node, "a keyword argument")
        for arg in node.args:
            self.visit(arg)
        fewest, most = FUNCTIONS[node.func.id]
        if len(node.args) < fewest or (most is not None and len(node.args) > most):
            count = f"{fewest}" if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            self.refuse(node, f"{node.func.id}() with {len(node.args)} argument(s) (it takes {count})")
        if node.func.id == "round" and len(node.args) == 2:
            digits = _literal_number(node.args[1])
            if digits is None or digits != int(digits) or abs(digits) > 15:
                self.refuse(node, "round(x, n) with n other than a literal whole number up to 15")

    def visit_Expression(self, node: ast.Expression) -> None:
        self.visit(node.body)


def _depth(root: ast.AST) -> int:
    """Depth of the syntax tree, counted without recursion."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _literal_number(node: ast.AST) -> float | None:
    """The value of a literal number, or of ``-``/``+`` a literal number; else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        try:
            return sign * float(node.value)
        except OverflowError:
            return None
    return None


# --------------------------------------------------------------------------- evaluation


class _Evaluator:
    """Evaluate a checked tree to float arrays (NaN = missing)."""

    def __init__(self, expression: Expression, frame: pd.DataFrame,
                 number: Callable[[pd.Series], pd.Series]) -> None:
        self.expression, self.frame, self.number = expression, frame, number
        self.n = len(frame)
        self.cache: dict[str, np.ndarray] = {}

    def column(self, alias: str) -> np.ndarray:
        if alias not in self.cache:
            name = self.expression.columns[int(_ALIAS_RE.fullmatch(alias).group(1))]
            self.cache[alias] = np.asarray(self.number(self.frame[name]), dtype=float)
        return self.cache[alias]

    def text(self, alias: str) -> np.ndarray:
        name = self.expression.columns[int(_ALIAS_RE.fullmatch(alias).group(1))]
        raw = self.frame[name]
        values = raw.astype(object).where(raw.notna(), None).to_numpy()
        text = [None if v is None else str(v).strip() for v in values]
        return np.array([t or None for t in text], dtype=object)

    def value(self, node: ast.AST) -> np.ndarray:
        if isinstance(node, ast.Constant):
            return np.full(self.n, float(node.value))
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self.value(node.left), self.value(node.right))
        if isinstance(node, ast.UnaryOp):
            x = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                return _missing_where(1.0 - _nonzero(x), x)
            return -x if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BoolOp):
            values = [self.value(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            out = _nonzero(values[0])
            for v in values[1:]:
                out = combine(out, _nonzero(v))
            return _missing_where(out.astype(float), *values)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover - _Checker refuses it

    def compare(self, node: ast.Compare) -> np.ndarray:
        operands = [node.left, *node.comparators]
        texts = [o for o in operands if isinstance(o, ast.Constant) and isinstance(o.value, str)]
        if texts:
            column = next(o for o in operands if isinstance(o, ast.Name))
            values = self.text(column.id)
            present = np.array([v is not None for v in values])
            equal = np.array([v == texts[0].value for v in values], dtype=bool)
            out = equal if isinstance(node.ops[0], ast.Eq) else ~equal
            return np.where(present, out.astype(float), np.nan)
        values = [self.value(o) for o in operands]
        out = np.ones(self.n, dtype=bool)
        for op, left, right in zip(node.ops, values, values[1:]):
            out &= _COMPARE[type(op)](left, right)
        return _missing_where(out.astype(float), *values)

    def call(self, node: ast.Call) -> np.ndarray:
        name = node.func.id
        if name == "round":
            digits = int(_literal_number(node.args[1])) if len(node.args) == 2 else 0
            return np.round(self.value(node.args[0]), digits)
        args = [self.value(a) for a in node.args]
        if name in ("abs", "floor", "ceil"):
            return {"abs": np.abs, "floor": np.floor, "ceil": np.ceil}[name](args[0])
        if name in ("min", "max"):
            out = (np.minimum if name == "min" else np.maximum).reduce(np.vstack(args), axis=0)
            return out  # NaN propagates through np.minimum / np.maximum
        if name == "where":
            condition, a, b = args
            return _missing_where(np.where(_nonzero(condition), a, b), condition)
        out = args[0].copy()  # coalesce
        for v in args[1:]:
            out = np.where(np.isnan(out), v, out)
        return out


def _nonzero(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(x, nan=0.0) != 0


def _missing_where(out: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
    """``out`` with NaN wherever any input is NaN."""
    missing = np.zeros(len(out), dtype=bool)
    for x in inputs:
        missing |= np.isnan(x)
    return np.where(missing, np.nan, out)
