"""Call arguments written as constant expressions, evaluated safely on the syntax tree: never ``eval``.

Beyond literals (numbers, strings, bytes, tuples, lists, dicts, sets, True/False/None)
this accepts arithmetic and repetition on them (``"word " * 40``, ``2 ** 20``,
``[0.5] * 1000``) and calls of a few built-in constructors with constant arguments
(``list(range(1000))``, ``bytes(4096)``, ``dict(n=3)``).  The names are always the
built-ins: nothing is looked up in the program.  Every value built counts against a
size cap, so ``"x" * 10**12`` is refused with a message instead of exhausting memory.

This module is also copied beside the measuring child and imported there, under any
Python from 3.9 on: it uses the standard library only and imports nothing from gillint.
"""

import ast
import math
import operator

MAX_ITEMS = 10_000_000  # characters, bytes or elements of any one value, and of all values built, together
MAX_INT_BITS = 100_000  # about 30 000 decimal digits
MAX_DEPTH = 100

ALLOWED_CALLS = ("list", "tuple", "set", "frozenset", "dict", "bytes", "bytearray", "range", "str", "int",
                 "float", "complex", "bool")
CONSTRUCTORS = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset, "dict": dict, "bytes": bytes,
                "bytearray": bytearray, "range": range, "str": str, "int": int, "float": float, "complex": complex,
                "bool": bool}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
          ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitAnd: operator.and_,
          ast.BitOr: operator.or_, ast.BitXor: operator.xor}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Invert: operator.invert, ast.Not: operator.not_}
SEQUENCES = (str, bytes, bytearray, list, tuple)
SIZED = (str, bytes, bytearray, list, tuple, set, frozenset, dict, range)


class NotConstant(ValueError):
    """The expression is not one this module evaluates; the message says which part and why."""


def _size(value):
    """Items in a sized value, without building it."""
    if isinstance(value, bool) or not isinstance(value, SIZED):
        return 0
    if isinstance(value, range):  # len() fails on ranges longer than sys.maxsize
        return max(0, (value.stop - value.start + value.step - (1 if value.step > 0 else -1)) // value.step)
    return len(value)


class _Evaluator:
    def __init__(self, source):
        self.source = source
        self.budget = MAX_ITEMS

    def text(self, node):
        segment = ast.get_source_segment(self.source, node) if self.source else None
        return segment or ast.dump(node)

    def spend(self, node, items):
        """Count ``items`` more characters, bytes or elements built; refuse past the cap."""
        if items > MAX_ITEMS:
            raise NotConstant("%s would make %d items, over the cap of %d" % (self.text(node), items, MAX_ITEMS))
        self.budget -= items
        if self.budget < 0:
            raise NotConstant("the arguments would hold more than %d items in all (at %s)"
                              % (MAX_ITEMS, self.text(node)))

    def check_int(self, node, value):
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            raise NotConstant("%s is an integer of more than %d bits" % (self.text(node), MAX_INT_BITS))
        return value

    def value(self, node, depth=0):
        if depth > MAX_DEPTH:
            raise NotConstant("nested more than %d levels deep" % MAX_DEPTH)
        depth += 1
        if isinstance(node, ast.Expression):
            return self.value(node.body, depth)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes)):
                self.spend(node, len(node.value))
            return self.check_int(node, node.value)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    unpacked = self.value(element.value, depth)
                    if not isinstance(unpacked, SIZED):
                        raise NotConstant("%s: only a sized constant can be unpacked" % self.text(element))
                    self.spend(element, _size(unpacked))
                    items.extend(unpacked)
                else:
                    items.append(self.value(element, depth))
            self.spend(node, len(items))
            if isinstance(node, ast.Tuple):
                return tuple(items)
            if isinstance(node, ast.List):
                return items
            return self.build(node, set, items)
        if isinstance(node, ast.Dict):
            result = {}
            for key, item in zip(node.keys, node.values):
                if key is None:  # {**other}
                    other = self.value(item, depth)
                    if not isinstance(other, dict):
                        raise NotConstant("%s: only a dict can be unpacked with **" % self.text(item))
                    result.update(other)
                else:
                    self.store(node, result, self.value(key, depth), self.value(item, depth))
            self.spend(node, len(result))
            return result
        if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            operand = self.value(node.operand, depth)
            return self.apply(node, UNARY[type(node.op)], operand)
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            left, right = self.value(node.left, depth), self.value(node.right, depth)
            self.check_binary(node, left, right)
            return self.apply(node, BINARY[type(node.op)], left, right)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Name):
            raise NotConstant("%s is a name: its value is only known when the program runs" % node.id)
        raise NotConstant("%s is not a constant expression" % self.text(node))

    def store(self, node, mapping, key, item):
        try:
            mapping[key] = item
        except TypeError as exc:
            raise NotConstant("%s: %s" % (self.text(node), exc)) from None

    def build(self, node, kind, items):
        try:
            return kind(items)
        except TypeError as exc:
            raise NotConstant("%s: %s" % (self.text(node), exc)) from None

    def check_binary(self, node, left, right):
        """Refuse, before computing it, an operation whose result would be over the caps."""
        op = type(node.op)
        if op is ast.Mult:
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, SEQUENCES) and isinstance(count, int):
                    self.spend(node, max(0, _size(sequence) * count))
        elif op is ast.Add and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
            self.spend(node, _size(left) + _size(right))
        elif op is ast.Pow and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if right * math.log2(abs(left)) > MAX_INT_BITS:
                raise NotConstant("%s is an integer of more than %d bits" % (self.text(node), MAX_INT_BITS))
        elif op is ast.LShift and isinstance(left, int) and isinstance(right, int) and left:
            if left.bit_length() + right > MAX_INT_BITS:
                raise NotConstant("%s is an integer of more than %d bits" % (self.text(node), MAX_INT_BITS))
        elif op is ast.Mod and isinstance(left, (str, bytes)):
            raise NotConstant("%s: %%-formatting is not evaluated; write the string" % self.text(node))

    def apply(self, node, function, *operands):
        try:
            result = function(*operands)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise NotConstant("%s: %s: %s" % (self.text(node), type(exc).__name__, exc)) from None
        return self.check_int(node, result)

    def call(self, node, depth):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in CONSTRUCTORS:
            raise NotConstant("%s calls %s, which is not evaluated (only %s)" % (
                self.text(node), name or self.text(node.func), ", ".join(ALLOWED_CALLS)))
        args = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise NotConstant("%s: *arguments are not evaluated" % self.text(node))
            args.append(self.value(argument, depth))
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise NotConstant("%s: **arguments are not evaluated" % self.text(node))
            kwargs[keyword.arg] = self.value(keyword.value, depth)
        if kwargs and name != "dict":
            raise NotConstant("%s: keyword arguments are only evaluated for dict()" % self.text(node))
        if len(args) > (3 if name == "range" else 2 if name in ("str", "bytes", "int", "complex") else 1):
            raise NotConstant("%s: too many arguments" % self.text(node))
        for value in args[:1]:
            if name in ("bytes", "bytearray") and isinstance(value, int) and not isinstance(value, bool):
                self.spend(node, max(0, value))
            elif name in ("list", "tuple", "set", "frozenset", "bytes", "bytearray", "dict") and \
                    isinstance(value, SIZED):
                self.spend(node, _size(value))
            elif name in ("list", "tuple", "set", "frozenset", "bytes", "bytearray", "dict"):
                raise NotConstant("%s: %s() of %s is not evaluated" % (self.text(node), name, type(value).__name__))
            elif name == "str" and len(args) == 1:
                self.spend(node, _size(value) * 8 + 32)  # str() of a container is about that long at most
        self.spend(node, len(kwargs))
        return self.apply(node, CONSTRUCTORS[name], *args, **kwargs) if not kwargs else \
            self.apply(node, lambda *a: dict(*a, **kwargs), *args)


def evaluate(source):
    """The value of a constant expression given as source text (NotConstant when it is not one)."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise NotConstant("not an expression: %r (%s)" % (source, exc.msg)) from None
    except (RecursionError, MemoryError):
        raise NotConstant("nested too deeply to read") from None
    return evaluate_node(tree, source.strip())


def evaluate_node(node, source=""):
    """The value of a constant expression's syntax tree (``source``, when given, names its parts in messages)."""
    try:
        return _Evaluator(source).value(node)
    except RecursionError:
        raise NotConstant("nested too deeply to evaluate") from None


def problem(source):
    """Why ``source`` is not a constant expression, or "" when it is one (None counts as one: nothing given)."""
    if source is None:
        return ""
    try:
        evaluate(source)
    except NotConstant as exc:
        return str(exc)
    return ""
