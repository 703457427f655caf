"""The expression language as scenarios write it: parse, check, fold constants, print.

The tree it produces is the core program's (:mod:`redline.core.expr`); evaluating it is each
backend's business. Nothing here hands scenario text to eval, exec, compile or import, or looks
up attributes by name.
"""

from redline.core.expr import Binary, Bool, Call, Compare, Expr, ExprError, Name, Num, Str, Unary
from redline.core.patterns import compile_pattern, match_tags, validate_pattern
from redline.core.primitives import FUNCTIONS, RANDOM_FUNCTIONS
from redline.scenario.expr.checker import NoSuchEvent, check, check_source
from redline.scenario.expr.parser import MAX_CHARS, MAX_DEPTH, MAX_NODES, parse
from redline.scenario.expr.printer import to_source
from redline.scenario.expr.symbols import Symbols, Type

__all__ = [
    "FUNCTIONS",
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_NODES",
    "RANDOM_FUNCTIONS",
    "Binary",
    "Bool",
    "Call",
    "Compare",
    "Expr",
    "ExprError",
    "Name",
    "NoSuchEvent",
    "Num",
    "Str",
    "Symbols",
    "Type",
    "Unary",
    "check",
    "check_source",
    "compile_pattern",
    "match_tags",
    "parse",
    "to_source",
    "validate_pattern",
]
