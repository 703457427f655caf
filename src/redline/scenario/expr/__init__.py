"""The expression language: parse, check, print, compile (vectorised) and evaluate (scalar).

Nothing here hands scenario text to eval, exec, compile or import, or looks up attributes by name.
"""

from redline.scenario.expr.ast import Binary, Bool, Call, Compare, Expr, Name, Num, Str, Unary
from redline.scenario.expr.checker import check, check_source
from redline.scenario.expr.compiler import Compiled, Layout, Mode, Value, compile_expr
from redline.scenario.expr.env import ArrayEnv, DrawSource
from redline.scenario.expr.errors import ExprError
from redline.scenario.expr.functions import FUNCTIONS, RANDOM_FUNCTIONS
from redline.scenario.expr.parser import MAX_CHARS, MAX_DEPTH, MAX_NODES, parse
from redline.scenario.expr.patterns import compile_pattern, match_tags, validate_pattern
from redline.scenario.expr.printer import to_source
from redline.scenario.expr.scalar import ScalarEnv, evaluate
from redline.scenario.expr.symbols import Symbols, Type

__all__ = [
    "FUNCTIONS",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_NODES",
    "RANDOM_FUNCTIONS",
    "ArrayEnv",
    "Binary",
    "Bool",
    "Call",
    "Compare",
    "Compiled",
    "DrawSource",
    "Expr",
    "ExprError",
    "Layout",
    "Mode",
    "Name",
    "Num",
    "ScalarEnv",
    "Str",
    "Symbols",
    "Type",
    "Unary",
    "Value",
    "check",
    "check_source",
    "compile_expr",
    "compile_pattern",
    "evaluate",
    "match_tags",
    "parse",
    "to_source",
    "validate_pattern",
]
