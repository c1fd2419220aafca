"""One libcst pass over a module, recording the facts the linker needs.

The visitor keeps a stack of scopes (module, class, function, lambda) and a stack
of loops inside the current function, and records for every function its loops,
the calls it makes (with the innermost loop around each), what local names are
bound to, and what it returns.  Calls that can hand work to another worker also
keep their arguments as :class:`Ref` values.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from .positions import Positions
from .model import QUICK_CALLS, SLEEP_NAMES, AttrValue, CallFact, ClassSummary, FunctionSummary, LoopFact, ModuleSummary, Ref, Span
from .race_facts import RaceRecorder
from .walk import walk_fields as _walk_fields

# Methods that put a value into the container they are called on: ``q.put(job)``, ``xs.append(x)``.
PUT_METHODS = frozenset({"put", "put_nowait", "append", "appendleft", "add", "insert", "setdefault"})
# Exceptions whose handler is a second implementation, not an error path:
# ``try: from _speedups import crc except ImportError: def crc(data): ...``
FALLBACK_EXCEPTIONS = frozenset({"ImportError", "ModuleNotFoundError", "AttributeError"})

STRING_METHODS = frozenset(
    {
        "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "replace", "lower", "upper",
        "casefold", "format", "encode", "decode", "startswith", "endswith", "find", "rfind", "index",
        "count", "partition", "rpartition", "translate", "title", "capitalize", "ljust", "rjust",
        "center", "zfill", "isdigit", "isalpha", "isalnum", "isspace",
    }
)
# Methods and functions that work on one character or byte: a loop applying them to its own element
# walks a text or a buffer one element at a time.
CHAR_METHODS = frozenset({
    "isalnum", "isalpha", "isdigit", "isspace", "isupper", "islower", "isprintable", "isidentifier", "isdecimal",
    "isnumeric", "isascii",
})
# Loop variables named like one character or byte: with a character predicate they mark a walk over text.
CHAR_NAMES = frozenset({"c", "ch", "char", "character", "b", "byte", "octet", "cp", "codepoint"})
CHAR_FUNCTIONS = frozenset({"ord", "chr", "hex"})
COLLECTION_METHODS = frozenset({"append", "extend", "add", "insert", "setdefault", "pop", "appendleft", "discard"})
# ``while not event.is_set()``, ``while not future.done()``: asking, not reading
PREDICATE_PREFIXES = ("is_", "has_", "done", "empty", "full", "locked", "running", "cancelled", "ready")
# A sleep shorter than this in a polling loop is a busy wait.
BUSY_SLEEP_SECONDS = 0.001
MAX_CONSTANT = 10**12


def dotted_name(node: cst.BaseExpression) -> str:
    """``a.b.c`` for Name/Attribute chains, ``super().__init__`` as ``super.__init__``; else ""."""
    parts: List[str] = []
    while True:
        if isinstance(node, cst.Name):
            parts.append(node.value)
            return ".".join(reversed(parts))
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
            continue
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super":
            parts.append("super")
            return ".".join(reversed(parts))
        return ""


def _unsubscript(node: cst.BaseExpression) -> cst.BaseExpression:
    """``Base[T]`` -> ``Base``: a generic base is still that base."""
    return node.value if isinstance(node, cst.Subscript) else node


def bound_names(target: cst.BaseExpression) -> Tuple[str, ...]:
    """The names a for-target binds: ``k``, ``(k, v)``, ``[a, (b, c)]``."""
    if isinstance(target, cst.Name):
        return (target.value,)
    if isinstance(target, (cst.Tuple, cst.List)):
        names: Tuple[str, ...] = ()
        for element in target.elements:
            names += bound_names(element.value)
        return names
    return ()


def root_name(node: cst.BaseExpression) -> str:
    """The first name of an iterable expression: ``vs`` for ``vs``, ``vs.items()``, ``vs[1:]``."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        else:
            return ""


def literal_int(node: cst.BaseExpression, constants: Optional[Dict[str, int]] = None) -> Optional[int]:
    """The value of a small constant integer expression (``10_000``, ``10**6``, ``N * 2``)."""
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(node, cst.Float):
        try:
            value = float(node.value.replace("_", ""))
        except ValueError:
            return None
        return int(value) if value.is_integer() and abs(value) < MAX_CONSTANT else None
    if isinstance(node, cst.Name) and constants is not None:
        return constants.get(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        value = literal_int(node.expression, constants)
        return -value if value is not None else None
    if isinstance(node, cst.BinaryOperation):
        left = literal_int(node.left, constants)
        right = literal_int(node.right, constants)
        if left is None or right is None:
            return None
        op = node.operator
        try:
            if isinstance(op, cst.Add):
                value = left + right
            elif isinstance(op, cst.Subtract):
                value = left - right
            elif isinstance(op, cst.Multiply):
                value = left * right
            elif isinstance(op, cst.FloorDivide):
                value = left // right
            elif isinstance(op, cst.Power) and 0 <= right <= 64 and abs(left) <= 10**6:
                value = left**right
            else:
                return None
        except ZeroDivisionError:
            return None
        return value if abs(value) <= MAX_CONSTANT else None
    return None


# Calls that answer at once without waiting: the clock, sizes, flags and states of other objects.
# ``q.get(block=False)``, ``q.get_nowait()``: a poll that raises at once when there is nothing to take.
NONBLOCKING_TAKES = frozenset({"get_nowait", "popleft", "pop"})


def _quick(node: cst.BaseExpression) -> bool:
    """An expression that reads state and returns at once: names, constants, arithmetic, comparisons and
    ``QUICK_CALLS``.  Any other call might wait, so it is not quick."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float, cst.SimpleString, cst.Ellipsis)):
        return True
    if isinstance(node, cst.Attribute):
        return _quick(node.value)
    if isinstance(node, cst.UnaryOperation):
        return _quick(node.expression)
    if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
        return _quick(node.left) and _quick(node.right)
    if isinstance(node, cst.Comparison):
        return _quick(node.left) and all(_quick(target.comparator) for target in node.comparisons)
    if isinstance(node, cst.Call):
        return (dotted_name(node.func).rsplit(".", 1)[-1] in QUICK_CALLS
                and all(_quick(arg.value) for arg in node.args))
    return False


def _tiny_sleep(node: cst.BaseExpression) -> bool:
    if not (isinstance(node, cst.Call) and dotted_name(node.func).rsplit(".", 1)[-1] in SLEEP_NAMES and node.args):
        return False
    seconds = literal_float(node.args[0].value)
    return seconds is not None and seconds < BUSY_SLEEP_SECONDS


def _nonblocking_take(node: cst.CSTNode) -> bool:
    """``x = q.get(block=False)`` / ``q.get_nowait()`` / ``q.get(False)``: raises at once when empty."""
    if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
        node = node.body[0]
    value = getattr(node, "value", None)
    if not isinstance(value, cst.Call):
        return False
    method = dotted_name(value.func).rsplit(".", 1)[-1]
    if method in NONBLOCKING_TAKES and not value.args:
        return True
    if method != "get":
        return False
    for index, arg in enumerate(value.args):
        keyword = arg.keyword.value if arg.keyword else ("block" if index == 0 else "")
        if keyword == "block" and isinstance(arg.value, cst.Name) and arg.value.value == "False":
            return True
    return False


def _names_and_attributes(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    if isinstance(node, (cst.Name, cst.Attribute)):
        yield node
    for child in node.children:
        yield from _names_and_attributes(child)


def idle_pass_spins(statements: Sequence[cst.CSTNode], assigned: Set[str]) -> bool:
    """Whether one pass of a polling loop, taken while nothing has happened yet, runs without waiting and
    goes round again.  The idle pass skips every ``if`` whose quick test is false (the branch that reacts
    runs once, when the thing polled for comes), and in a ``try`` that starts with a non-blocking take
    from a queue it goes to the handler.  Anything that might wait (an unknown call, a loop, a ``with``)
    makes it a real pass, not a spin; so does a body that never loops back.  The names the idle pass
    assigns are added to ``assigned``."""
    simple: List[cst.BaseSmallStatement] = []
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            simple.extend(stmt.body)
        elif isinstance(stmt, cst.BaseSmallStatement):  # the body of ``while x: pass`` on one line
            simple.append(stmt)
        elif isinstance(stmt, cst.If):
            if not _quick(stmt.test):
                return False
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                if not idle_pass_spins([orelse], assigned):
                    return False
            elif orelse is not None and not idle_pass_spins(orelse.body.body, assigned):
                return False
        elif isinstance(stmt, cst.Try) and stmt.body.body and _nonblocking_take(stmt.body.body[0]):
            if stmt.orelse is not None or stmt.finalbody is not None:
                return False
            if not all(idle_pass_spins(handler.body.body, assigned) for handler in stmt.handlers):
                return False
        else:
            return False
    for small in simple:
        if isinstance(small, (cst.Pass, cst.Continue)):
            continue
        if isinstance(small, cst.Expr) and (_tiny_sleep(small.value) or _quick(small.value)):
            continue
        if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and small.value is not None \
                and _quick(small.value):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            assigned.update(dotted_name(n) for t in targets for n in _names_and_attributes(t))
            continue
        return False
    return bool(statements)


def literal_float(node: cst.BaseExpression) -> Optional[float]:
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return float(node.value.replace("_", "")) if isinstance(node, cst.Float) else float(int(node.value.replace("_", ""), 0))
        except ValueError:
            return None
    return None


class _Scope:
    __slots__ = ("kind", "qualname", "function", "klass")

    def __init__(self, kind: str, qualname: str, function: Optional[FunctionSummary] = None,
                 klass: Optional[ClassSummary] = None) -> None:
        self.kind = kind  # "module", "class", "function"
        self.qualname = qualname
        self.function = function
        self.klass = klass


class Summariser:
    """Records facts while _Walker visits the tree; positions come from :class:`Positions`."""

    def __init__(self, module: cst.Module, summary: ModuleSummary, positions: Positions) -> None:
        self.module = module
        self.positions = positions
        self.code = positions.code
        self.summary = summary
        self.scopes: List[_Scope] = [_Scope("module", "")]
        # One loop stack per function being visited (nested defs start a new one).
        self.loop_stacks: List[List[int]] = [[]]
        self.module_function = FunctionSummary(
            qualname=ModuleSummary.MODULE_SCOPE, name=ModuleSummary.MODULE_SCOPE, span=(1, 1, 1, 1), name_span=(1, 1, 1, 1)
        )
        self.comprehension_loops: Dict[int, int] = {}
        # The iterable of a loop is evaluated before the loop: its work is not per iteration.
        self.in_iterable = 0
        self.in_handler = 0  # inside except handlers: error paths, rare by nature
        # inside ``raise``: building an error's message (an f-string, a join of the bad values) is done
        # once, on the way out, and is not work of the loop around it
        self.in_raise = 0
        self.gil_off = 0  # inside branches that run only when the GIL is disabled
        self.guards: List[Tuple[str, bool]] = []  # branches taken only when a parameter is (not) None
        self.branch_stack: List[Tuple[int, List[Tuple[str, bool]]]] = []  # the two above, of enclosing scopes
        self.handler_stack: List[int] = []  # in_handler of the enclosing scopes (a def restarts the count)

    # ----------------------------------------------------------------- helpers
    def span(self, node: cst.CSTNode) -> Span:
        line, column, end_line, end_column = self.positions.spans[id(node)]
        return (line, column + 1, end_line, end_column + 1)

    def text(self, node: cst.CSTNode) -> str:
        code = self.positions.code(node)
        return code if len(code) <= 200 else code[:197] + "..."

    @property
    def function(self) -> FunctionSummary:
        for scope in reversed(self.scopes):
            if scope.kind == "function":
                return scope.function  # type: ignore[return-value]
        return self.module_function

    @property
    def enclosing_class(self) -> Optional[ClassSummary]:
        """The class whose method we are directly in (for self.x = ... bookkeeping)."""
        for scope in reversed(self.scopes):
            if scope.kind == "class":
                return scope.klass
        return None

    def current_loop(self) -> Optional[int]:
        stack = self.loop_stacks[-1]
        return stack[-1] if stack else None

    def qualname_for(self, name: str) -> str:
        parent = self.scopes[-1].qualname
        return "%s.%s" % (parent, name) if parent else name

    def note_element_work(self, name: cst.BaseExpression, by_name_only: bool = False) -> None:
        """``name`` is worked on by a per-element operation: mark the innermost loop that binds it.
        ``by_name_only``: the operation also fits words (``w.isdigit()``), so only a loop variable named
        like a character counts."""
        if not isinstance(name, cst.Name) or self.in_iterable:
            return
        if by_name_only and name.value not in CHAR_NAMES:
            return
        function = self.function
        for index in reversed(self.loop_stacks[-1]):
            loop = function.loops[index]
            if name.value in loop.targets:
                iterable = loop.iter_ref
                if len(loop.targets) == 1 and iterable is not None and (iterable.kind in ("name", "member") or (
                        iterable.kind == "call" and iterable.raw in ("bytes", "bytearray", "memoryview", "iter", "str"))):
                    loop.per_element = True  # a walk over a stored text or buffer, not over a list of words
                return

    def note_op(self, kind: str, node: cst.CSTNode) -> None:
        index = self.current_loop()
        if index is None or self.in_iterable or self.in_raise:
            return
        loop = self.function.loops[index]
        if kind not in loop.ops:
            loop.ops = loop.ops + (kind,)
        if loop.op_span is None:
            loop.op_span = self.span(node)

    def ref(self, node: cst.BaseExpression) -> Ref:
        if isinstance(node, cst.Name) and node.value == "None":
            return Ref("other", "None", text="None", is_none=True)
        name = dotted_name(node)
        if name:
            return Ref("name", name, text=self.text(node))
        if isinstance(node, cst.Call):
            callee = dotted_name(node.func)
            positional = [arg.value for arg in node.args if not arg.keyword and not arg.star]
            if callee == "getattr" and len(positional) >= 2:
                owner, attribute = self.ref(positional[0]), positional[1]
                if isinstance(attribute, cst.SimpleString) and isinstance(attribute.evaluated_value, str):
                    return Ref("member", attribute.evaluated_value, args=(owner,), text=self.text(node))
                return Ref("getattr", args=(owner, self.ref(attribute)), text=self.text(node))
            args = tuple(self.ref(arg) for arg in positional[:6])
            keywords = tuple((arg.keyword.value, self.ref(arg.value)) for arg in node.args[:8] if arg.keyword is not None)
            return Ref("call", callee, args=args, text=self.text(node), keywords=keywords, gil_off=self.gil_off > 0)
        if isinstance(node, cst.Lambda):
            return Ref("lambda", self.lambda_qualname(node), text=self.text(node))
        if isinstance(node, cst.Attribute):
            # ``Scorer().score``, ``make_pool().submit``: an attribute of a computed value
            return Ref("member", node.attr.value, args=(self.ref(node.value),), text=self.text(node))
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            elements = tuple(self.ref(el.value) for el in node.elements[:8] if isinstance(el, cst.Element))
            return Ref("list", args=elements, text=self.text(node))
        if isinstance(node, cst.Dict):
            values = tuple(self.ref(el.value) for el in node.elements[:8] if isinstance(el, cst.DictElement))
            return Ref("list", "dict", args=values, text=self.text(node))
        if isinstance(node, cst.IfExp):
            body, orelse = self.ref(node.body), self.ref(node.orelse)
            tested = self.coroutine_test(node.test)
            if tested is not None:
                # ``function if inspect.iscoroutinefunction(function) else None``: the branch holds only
                # coroutine functions (the other branch, only plain ones)
                name, when_true = tested
                body = _narrowed(body, name, "async" if when_true else "sync")
                orelse = _narrowed(orelse, name, "sync" if when_true else "async")
            return Ref("union", args=(body, orelse), text=self.text(node))
        if (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add)
                and isinstance(node.left, (cst.List, cst.Tuple))):
            # ``(queue, self.function) + args``: a sequence whose first items are known
            elements = tuple(self.ref(el.value) for el in node.left.elements[:8] if isinstance(el, cst.Element))
            return Ref("list", args=elements, text=self.text(node))
        if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or):
            return Ref("union", args=(self.ref(node.left), self.ref(node.right)), text=self.text(node))
        if isinstance(node, cst.Subscript):
            return Ref("element", args=(self.ref(node.value),), text=self.text(node))
        if isinstance(node, cst.Await):
            return self.ref(node.expression)
        if isinstance(node, cst.NamedExpr):
            return self.ref(node.value)
        return Ref("other", text=self.text(node))

    def coroutine_test(self, test: cst.BaseExpression) -> Optional[Tuple[str, bool]]:
        """``(name, True)`` for a test true exactly when ``name`` holds a coroutine function:
        ``inspect.iscoroutinefunction(name)``, ``asyncio.iscoroutinefunction(name)``, a local name assigned
        one of those (``is_async = iscoroutinefunction(fn)``); ``(name, False)`` for its negation."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.coroutine_test(test.expression)
            return (inner[0], not inner[1]) if inner is not None else None
        if isinstance(test, cst.Name):
            assigned = self.function.assigns.get(test.value, [])
            refs = assigned if len(assigned) == 1 else []
        elif isinstance(test, cst.Call) and (dotted_name(test.func) or "").endswith("iscoroutinefunction"):
            refs = [self.ref(test)]
        else:
            return None  # most tests of a conditional expression: nothing to build
        for value in refs:
            if (value.kind == "call" and value.raw.rsplit(".", 1)[-1] == "iscoroutinefunction" and value.args
                    and value.args[0].kind == "name"):
                return value.args[0].raw, True
        return None

    def annotation_ref(self, node: cst.BaseExpression) -> Optional[Ref]:
        """An annotation as a type name: ``Tracker``, ``"Tracker"``, ``Optional[Tracker]``, ``Tracker | None``."""
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            if isinstance(value, str):
                try:
                    return self.annotation_ref(cst.parse_expression(value))
                except Exception:  # not an expression: no type to take from it
                    return None
            return None
        if isinstance(node, cst.Subscript):
            name = dotted_name(node.value)
            if name.rsplit(".", 1)[-1] in ("Optional", "Union", "Annotated", "Final", "ClassVar", "Type", "type"):
                for element in node.slice:
                    if isinstance(element.slice, cst.Index):
                        found = self.annotation_ref(element.slice.value)
                        if found is not None:
                            return found if name.rsplit(".", 1)[-1] not in ("Type", "type") else Ref(
                                "name", found.raw, text=found.text)
            return None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            for side in (node.left, node.right):
                found = self.annotation_ref(side)
                if found is not None:
                    return found
            return None
        name = dotted_name(node)
        if name and name != "None":
            return Ref("call", name, text=name)  # a value of that type: an instance of it
        return None

    def lambda_qualname(self, node: cst.Lambda) -> str:
        line, col, _, _ = self.span(node)
        return self.qualname_for("<lambda:%d:%d>" % (line, col))

    def bind(self, target: cst.BaseExpression, value: Ref) -> None:
        """Record that ``target`` may hold ``value`` (every assignment is kept: the union, not the last)."""
        if isinstance(target, cst.Name):
            if len(self.scopes) == 1:
                self.summary.assigns.setdefault(target.value, []).append(value)
            else:
                scope = self.scopes[-1]
                if scope.kind == "class" and scope.klass is not None:
                    scope.klass.attrs.setdefault(target.value, []).append(AttrValue("", value))
                elif scope.kind == "function":
                    self.function.assigns.setdefault(target.value, []).append(value)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value in ("self", "cls"):
            klass = self.enclosing_class
            if klass is not None:
                klass.attrs.setdefault(target.attr.value, []).append(AttrValue(self.function.qualname, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [el for el in target.elements if isinstance(el, cst.Element)]
            if value.kind == "list" and value.raw != "dict" and len(value.args) == len(elements):
                for element, item in zip(elements, value.args):
                    self.bind(element.value, item)
            elif not any(isinstance(el, cst.StarredElement) for el in target.elements):
                for index, element in enumerate(elements):
                    self.bind(element.value, Ref("item", str(index), args=(value,), text=value.text))
        elif isinstance(target, cst.Subscript):
            self.store(target.value, value)

    def store(self, container: cst.BaseExpression, value: Ref) -> None:
        """``container[k] = value`` or ``container.put(value)``: the container may hold value."""
        name = dotted_name(container)
        if not name:
            return
        head, _, rest = name.partition(".")
        if head in ("self", "cls") and rest and "." not in rest:
            klass = self.enclosing_class
            if klass is not None:
                klass.stores.setdefault(rest, []).append(AttrValue(self.function.qualname, value))
        elif "." not in name:
            self.function.stores.setdefault(name, []).append(value)

    # ----------------------------------------------------------------- imports
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bind_import(alias.asname.name.value, full)
            else:
                top = full.split(".", 1)[0]
                self.summary.imports.setdefault(top, top)
                if "." in full:
                    # "import a.b" binds "a"; remember "a.b" so that a.b.f resolves
                    self.summary.imports[full] = full

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = dotted_name(node.module) if node.module is not None else ""
        if node.relative:
            level = len(node.relative)
            parts = self.summary.module.split(".")
            if not self.summary.is_package:
                parts = parts[:-1]
            if level > 1:
                parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
            base = ".".join([p for p in parts if p] + ([base] if base else []))
        if isinstance(node.names, cst.ImportStar):
            self.summary.star_imports.append(base)
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            self.bind_import(local, "%s.%s" % (base, name) if base else name)

    def bind_import(self, local: str, qualified: str) -> None:
        """The last import of a name is its main value; the ones before it stay possible values."""
        previous = self.summary.imports.get(local)
        if previous is not None and previous != qualified:
            alternatives = self.summary.import_alternatives.setdefault(local, [])
            if previous not in alternatives:
                alternatives.append(previous)
        self.summary.imports[local] = qualified

    # ----------------------------------------------------------------- scopes
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self.qualname_for(node.name.value)
        klass = ClassSummary(
            qualname=qualname,
            name=node.name.value,
            span=self.span(node),
            name_span=self.span(node.name),
            bases=tuple(base for base in (dotted_name(_unsubscript(arg.value)) for arg in node.bases if not arg.keyword)
                        if base),
            decorators=tuple(dotted_name(d.decorator) or dotted_name(getattr(d.decorator, "func", None) or d.decorator)
                             for d in node.decorators if dotted_name(d.decorator) or isinstance(d.decorator, cst.Call)),
        )
        self.summary.classes[qualname] = klass
        self.scopes.append(_Scope("class", qualname, klass=klass))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def parameters(self, params: cst.Parameters, function: FunctionSummary) -> None:
        positional = list(params.posonly_params) + list(params.params)
        every = positional + list(params.kwonly_params)
        function.params = tuple(p.name.value for p in every)
        function.positional = len(positional)
        for param in every:
            if param.default is not None:
                function.defaults[param.name.value] = self.ref(param.default)
            if param.annotation is not None:
                found = self.annotation_ref(param.annotation.annotation)
                if found is not None:
                    function.annotations[param.name.value] = found

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent_scope = self.scopes[-1]
        qualname = self.qualname_for(node.name.value)
        function = FunctionSummary(
            qualname=qualname,
            name=node.name.value,
            span=self.span(node),
            name_span=self.span(node.name),
            is_async=node.asynchronous is not None,
            class_name=parent_scope.qualname if parent_scope.kind == "class" else "",
            parent=parent_scope.qualname if parent_scope.kind == "function" else "",
            decorators=tuple(dotted_name(d.decorator) or dotted_name(getattr(d.decorator, "func", None) or d.decorator)
                             for d in node.decorators if dotted_name(d.decorator) or isinstance(d.decorator, cst.Call)),
        )
        self.parameters(node.params, function)
        self.summary.functions[qualname] = function
        if parent_scope.kind == "class" and parent_scope.klass is not None:
            parent_scope.klass.methods[node.name.value] = qualname
        elif parent_scope.kind == "function" and parent_scope.function is not None:
            parent_scope.function.local_defs[node.name.value] = qualname
        self.scopes.append(_Scope("function", qualname, function=function))
        self.loop_stacks.append([])
        # a function defined in an except handler (the fallback of a failed import) is not itself an error path
        self.handler_stack.append(self.in_handler)
        self.in_handler = 0
        # nor is one defined in a raising branch or a branch on a parameter: its body has its own
        self.branch_stack.append((self.in_raise, self.guards))
        self.in_raise, self.guards = 0, []

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.loop_stacks.pop()
        self.in_handler = self.handler_stack.pop()
        self.in_raise, self.guards = self.branch_stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        parent = self.function
        qualname = self.lambda_qualname(node)
        function = FunctionSummary(
            qualname=qualname,
            name="<lambda>",
            span=self.span(node),
            name_span=self.span(node),
            is_lambda=True,
            parent=parent.qualname if parent is not self.module_function else "",
        )
        self.parameters(node.params, function)
        self.summary.functions[qualname] = function
        self.scopes.append(_Scope("function", qualname, function=function))
        self.loop_stacks.append([])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()
        self.loop_stacks.pop()

    # ----------------------------------------------------------------- loops
    def push_loop(self, loop: LoopFact) -> int:
        function = self.function
        loop.rare = self.in_handler > 0
        loop.parent = self.current_loop()
        function.loops.append(loop)
        index = len(function.loops) - 1
        self.loop_stacks[-1].append(index)
        return index

    def iteration_bound(self, node: cst.BaseExpression) -> Tuple[Optional[int], str]:
        constants = self.summary.constants
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            if any(isinstance(el, cst.StarredElement) for el in node.elements):
                return None, ""
            return len(node.elements), ""
        if isinstance(node, cst.Dict):
            return len(node.elements), ""
        if isinstance(node, cst.SimpleString):
            return len(node.value), ""
        if isinstance(node, cst.Call):
            callee = dotted_name(node.func)
            positional = [a.value for a in node.args if not a.keyword and not a.star]
            if callee == "range" and positional and len(positional) <= 3:
                values = [literal_int(v, constants) for v in positional]
                if all(v is not None for v in values):
                    if len(values) == 1:
                        return max(0, values[0]), ""  # type: ignore[type-var]
                    step = values[2] if len(values) == 3 and values[2] else 1
                    return max(0, (values[1] - values[0]) // step), ""  # type: ignore[operator]
                stop = positional[0] if len(positional) == 1 else positional[1]
                if isinstance(stop, cst.Name):
                    return None, stop.value
                if isinstance(stop, cst.Attribute) and dotted_name(stop).count(".") == 1:
                    return None, dotted_name(stop)  # range(self.ATTEMPTS): a class constant, linked later
                return None, ""
            if callee in ("enumerate", "reversed", "sorted", "list", "tuple", "set") and positional:
                return self.iteration_bound(positional[0])
            if callee == "zip" and positional:
                bounds = [self.iteration_bound(p)[0] for p in positional]
                known = [b for b in bounds if b is not None]
                return (min(known) if known else None), ""
        return None, ""

    def visit_For(self, node: cst.For) -> None:
        iterable = self.ref(node.iter)
        self.bind(node.target, Ref("element", args=(iterable,), text=iterable.text))
        bound, bound_name = self.iteration_bound(node.iter)
        self.push_loop(LoopFact("for", self.span(node), None, bound, bound_name, iter_text=self.text(node.iter), iter_ref=iterable,
                                awaits=node.asynchronous is not None, targets=bound_names(node.target),
                                iter_root=dotted_name(node.iter).split(".", 1)[0] or root_name(node.iter)))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.in_handler += 0 if self.is_fallback(node) else 1

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self.in_handler -= 0 if self.is_fallback(original_node) else 1

    @staticmethod
    def is_fallback(node: cst.ExceptHandler) -> bool:
        """``except ImportError:`` at the top of a module or class: the other implementation, a real code path."""
        caught = node.type
        names = [caught] if caught is not None and not isinstance(caught, cst.Tuple) else (
            [el.value for el in caught.elements] if isinstance(caught, cst.Tuple) else [])
        return bool(names) and all(dotted_name(n).rsplit(".", 1)[-1] in FALLBACK_EXCEPTIONS for n in names)

    def visit_Raise(self, node: cst.Raise) -> None:
        self.in_raise += 1
        self.in_handler += 1  # the calls that build the exception run once, on an error path

    def leave_Raise(self, original_node: cst.Raise) -> None:
        self.in_raise -= 1
        self.in_handler -= 1

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self.in_handler += 1

    def leave_ExceptStarHandler(self, original_node: cst.ExceptStarHandler) -> None:
        self.in_handler -= 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_stacks[-1].pop()

    def visit_While(self, node: cst.While) -> None:
        test = node.test
        infinite = isinstance(test, cst.Name) and test.value == "True" or (
            isinstance(test, cst.Integer) and test.value != "0"
        )
        self.push_loop(
            LoopFact("while", self.span(node), None, None, infinite=infinite, busy_wait=self.is_busy_wait(node),
                     iter_text=self.text(test))
        )

    def leave_While(self, original_node: cst.While) -> None:
        self.loop_stacks[-1].pop()

    def note_walk(self, node: cst.Assign) -> None:
        """``node = node.next`` inside ``while node:`` makes the loop a walk along links."""
        index = self.current_loop()
        if index is None or not isinstance(node.value, cst.Attribute) or len(node.targets) != 1:
            return
        target = node.targets[0].target
        loop = self.function.loops[index]
        if (loop.kind == "while" and isinstance(target, cst.Name) and dotted_name(node.value.value) == target.value
                and target.value in loop.iter_text):
            loop.walk = True

    def polls_flags(self, test: cst.BaseExpression) -> bool:
        """A flag (``done``, ``self._stop``), a predicate (``t.is_alive()``), or ``and``/``or``/``not`` of them."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self.polls_flags(test.expression)
        if isinstance(test, cst.BooleanOperation):
            return self.polls_flags(test.left) and self.polls_flags(test.right)
        flag = dotted_name(test)
        return bool(flag) and flag != "True" or (
            isinstance(test, cst.Call) and not test.args
            and dotted_name(test.func).rsplit(".", 1)[-1].startswith(PREDICATE_PREFIXES))

    def is_busy_wait(self, node: cst.While) -> bool:
        """A loop polling a flag whose idle pass waits on nothing: ``while not done: pass``, a tiny sleep,
        or checks that do something only once the condition they test comes true."""
        if not self.polls_flags(node.test):
            return False
        assigned: Set[str] = set()
        if not idle_pass_spins(node.body.body, assigned):
            return False
        # ``while node: ... node = node.parent`` moves what it tests each pass: a walk, not a spin
        polled = {dotted_name(n) for n in _names_and_attributes(node.test)}
        return not (assigned & polled)

    def _visit_comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp]) -> None:
        count = 0
        comp: Optional[cst.CompFor] = node.for_in
        while comp is not None:
            iterable = self.ref(comp.iter)
            self.bind(comp.target, Ref("element", args=(iterable,), text=iterable.text))
            bound, bound_name = self.iteration_bound(comp.iter)
            self.push_loop(LoopFact("comprehension", self.span(node), None, bound, bound_name, iter_ref=iterable,
                                    iter_text=self.text(comp.iter), awaits=comp.asynchronous is not None,
                                    targets=bound_names(comp.target), iter_root=root_name(comp.iter)))
            count += 1
            comp = comp.inner_for_in
        self.comprehension_loops[id(node)] = count

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        for _ in range(self.comprehension_loops.pop(id(node), 0)):
            self.loop_stacks[-1].pop()

    visit_ListComp = _visit_comprehension  # type: ignore[assignment]
    visit_SetComp = _visit_comprehension  # type: ignore[assignment]
    visit_DictComp = _visit_comprehension  # type: ignore[assignment]
    visit_GeneratorExp = _visit_comprehension  # type: ignore[assignment]
    leave_ListComp = _leave_comprehension  # type: ignore[assignment]
    leave_SetComp = _leave_comprehension  # type: ignore[assignment]
    leave_DictComp = _leave_comprehension  # type: ignore[assignment]
    leave_GeneratorExp = _leave_comprehension  # type: ignore[assignment]

    # ----------------------------------------------------------------- work
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, (cst.BitXor, cst.BitAnd, cst.BitOr, cst.LeftShift, cst.RightShift)):
            self.note_element_work(node.left)  # crc ^ b, (b >> 4) & 0xF: byte-wise work
            self.note_element_work(node.right)
        if (isinstance(node.operator, (cst.Add, cst.Subtract)) and isinstance(node.right, cst.Integer)
                and isinstance(node.left, (cst.Name, cst.Attribute))):
            return  # ``found = found + 1``, ``i - 1``: counters and indices, not work
        kind = "string" if isinstance(node.operator, cst.Modulo) and isinstance(node.left, (cst.SimpleString, cst.FormattedString)) else "arithmetic"
        self.note_op(kind, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not (isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign)) and isinstance(node.value, cst.Integer)):
            self.note_op("arithmetic", node)  # ``count += 1`` is bookkeeping, not work
        if isinstance(node.target, cst.Subscript):
            self.note_op("collection", node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.note_op("string", node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.note_op("collection", node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.note_op("comparison", node)

    def visit_Await(self, node: cst.Await) -> None:
        self.function.awaits += 1
        index = self.current_loop()
        if index is not None:
            self.function.loops[index].awaits = True

    def visit_Yield(self, node: cst.Yield) -> None:
        value = node.value
        if isinstance(value, cst.From):
            self.function.yields.append(Ref("element", args=(self.ref(value.item),), text=self.text(value.item)))
        elif value is not None:
            self.function.yields.append(self.ref(value))

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.function.returns.append(self.ref(node.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        self.note_walk(node)
        value = self.ref(node.value)
        for target in node.targets:
            self.bind(target.target, value)
        size = len(node.value.elements) if isinstance(node.value, (cst.List, cst.Tuple, cst.Set, cst.Dict)) else None
        if len(self.scopes) > 1 and self.scopes[-1].kind == "function":
            sizes = self.function.sizes
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    if size is not None:
                        sizes[target.target.value] = size
                    else:
                        sizes.pop(target.target.value, None)
        if len(self.scopes) == 1:
            number = literal_int(node.value, self.summary.constants)
            string = node.value.evaluated_value if isinstance(node.value, cst.SimpleString) else None
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    if isinstance(string, str):
                        self.summary.strings[target.target.value] = string
                    if number is not None:
                        self.summary.constants[target.target.value] = number
                    else:
                        self.summary.constants.pop(target.target.value, None)
                    if size is not None:
                        self.summary.sizes[target.target.value] = size
                    else:
                        self.summary.sizes.pop(target.target.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        scope = self.scopes[-1]
        if scope.kind == "class" and scope.klass is not None and isinstance(node.target, cst.Name):
            klass = scope.klass
            klass.fields = klass.fields + (node.target.value,)
            found = self.annotation_ref(node.annotation.annotation)
            if found is not None:
                klass.field_types[node.target.value] = found
        if node.value is not None:
            self.bind(node.target, self.ref(node.value))
            if len(self.scopes) == 1 and isinstance(node.target, cst.Name):
                number = literal_int(node.value, self.summary.constants)
                if number is not None:
                    self.summary.constants[node.target.value] = number

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:  # ``async with`` awaits __aenter__/__aexit__
            self.function.awaits += 1
            index = self.current_loop()
            if index is not None:
                self.function.loops[index].awaits = True
        for item in node.items:
            if item.asname is not None:
                self.bind(item.asname.name, self.ref(item.item))

    def visit_Call(self, node: cst.Call) -> None:
        raw = dotted_name(node.func)
        method = raw.rsplit(".", 1)[-1] if raw else (
            node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        )
        positional = [a for a in node.args if not a.keyword and not a.star]
        loop = self.current_loop()
        if loop is not None and self.in_iterable:
            loop = self.function.loops[loop].parent  # the iterable is evaluated once, outside the loop
        fact = CallFact(raw=raw, method=method, nargs=len(positional), span=self.span(node), loop=loop,
                        rare=self.in_handler > 0, gil_off=self.gil_off > 0,
                        guard=self.guards[-1] if self.guards and self.guards[-1][0] in self.function.params else None)
        if not raw and isinstance(node.func, (cst.Attribute, cst.Call)):
            fact.func = self.ref(node.func)
            if not method and fact.func.kind == "member":
                fact.method = fact.func.raw
        if node.args:
            fact.args = tuple(self.ref(a.value) for a in positional[:6])
            fact.keywords = tuple((a.keyword.value, self.ref(a.value)) for a in node.args if a.keyword is not None)
            fact.star_args = any(a.star for a in node.args)
            if method in PUT_METHODS and isinstance(node.func, cst.Attribute) and fact.args:
                self.store(node.func.value, fact.args[-1])
        self.function.calls.append(fact)
        if raw in CHAR_FUNCTIONS and positional:
            self.note_element_work(positional[0].value)
        if isinstance(node.func, cst.Attribute):
            name = node.func.attr.value
            if name in CHAR_METHODS:
                self.note_element_work(node.func.value, by_name_only=True)
            if name in STRING_METHODS:
                self.note_op("string", node)
            elif name in COLLECTION_METHODS:
                self.note_op("collection", node)
            elif name == "join" and positional:
                self.note_op("string", node)


# (node type, field) pairs whose subtree is a loop's iterable: evaluated once, before the loop.
_ITERABLE_FIELDS = frozenset({(cst.For, "iter"), (cst.CompFor, "iter")})


# How code asks whether the GIL is on: the interpreter (sys._is_gil_enabled), the build
# (sysconfig's Py_GIL_DISABLED), or a helper or constant named for it (is_free_threaded(), NOGIL).
_GIL_ON_WORDS = ("_is_gil_enabled", "gil_enabled")
_GIL_OFF_WORDS = ("py_gil_disabled", "gil_disabled", "free_threaded", "freethreaded", "free_threading", "nogil")


def gil_test(test: cst.BaseExpression, code: Callable[[cst.CSTNode], str]) -> Optional[str]:
    """"on" if ``test`` is true exactly when the GIL is enabled, "off" when exactly when it is disabled,
    None when it is about something else."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = gil_test(test.expression, code)
        return {"on": "off", "off": "on"}.get(inner or "")
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        literal = code(target.comparator).strip()
        inner = gil_test(test.left, code)
        if inner and literal in ("True", "False", "0", "1"):
            negated = isinstance(target.operator, (cst.IsNot, cst.NotEqual)) != (literal in ("False", "0"))
            return {"on": "off", "off": "on"}[inner] if negated else inner
        return None
    if not isinstance(test, (cst.Call, cst.Name, cst.Attribute)):
        return None
    text = code(test).lower()
    if any(word in text for word in _GIL_ON_WORDS):
        return "on"
    if any(word in text for word in _GIL_OFF_WORDS):
        return "off"
    return None


def _exits_when_gil_on(node: cst.If, code: Callable[[cst.CSTNode], str]) -> bool:
    """A guard clause: ``if <GIL enabled>:`` whose body always leaves the block, with no else."""
    if node.orelse is not None or gil_test(node.test, code) != "on":
        return False
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    if isinstance(last, cst.SimpleStatementLine) and last.body:
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    return isinstance(last, cst.With) and _ends_in_exit(last)


def none_test(test: cst.BaseExpression) -> Optional[Tuple[str, bool]]:
    """``p is None`` -> (p, True); ``p is not None`` -> (p, False); anything else -> None."""
    if not (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and len(test.comparisons) == 1):
        return None
    target = test.comparisons[0]
    if not (isinstance(target.comparator, cst.Name) and target.comparator.value == "None"):
        return None
    if isinstance(target.operator, cst.Is):
        return test.left.value, True
    if isinstance(target.operator, cst.IsNot):
        return test.left.value, False
    return None


def _ends_in_raise(block: cst.CSTNode) -> bool:
    """An ``if`` body whose last statement raises."""
    body = block.body if isinstance(block, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    return isinstance(last, cst.SimpleStatementLine) and bool(last.body) and isinstance(last.body[-1], cst.Raise)


def _ends_in_exit(node: cst.With) -> bool:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    return isinstance(last, cst.SimpleStatementLine) and bool(last.body) and isinstance(
        last.body[-1], (cst.Return, cst.Raise))


def _chain(handlers: List[object]) -> object:
    """One handler for a node type: None, the only one, or each in turn."""
    if len(handlers) <= 1:
        return handlers[0] if handlers else None

    def each(node: cst.CSTNode) -> None:
        for handler in handlers:
            handler(node)  # type: ignore[operator]
    return each


class _Walker:
    """A read-only pre-order walk that calls the summariser's visit_/leave_ methods.

    libcst's own traversal rebuilds every node it passes (it is shared with
    transformers); reading needs none of that, and this walk is several times faster.
    """

    def __init__(self, visitor: "Summariser", *riders: object) -> None:
        self.visitor = visitor
        self.riders = riders  # more visitors called after the summariser's visit_ and before its leave_
        self.visits: Dict[type, object] = {}
        self.leaves: Dict[type, object] = {}

    def _handlers(self, cls: type) -> Tuple[object, object]:
        if cls not in self.visits:
            name = cls.__name__
            visits = [getattr(v, "visit_" + name, None) for v in (self.visitor,) + self.riders]
            leaves = [getattr(v, "leave_" + name, None) for v in self.riders[::-1] + (self.visitor,)]
            self.visits[cls] = _chain([h for h in visits if h is not None])
            self.leaves[cls] = _chain([h for h in leaves if h is not None])
        return self.visits[cls], self.leaves[cls]

    def walk(self, node: cst.CSTNode) -> None:
        cls = type(node)
        visit, leave = self._handlers(cls)
        if visit is not None:
            visit(node)  # type: ignore[operator]
        for name in _walk_fields(cls):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                if (cls, name) in _ITERABLE_FIELDS:
                    self.visitor.in_iterable += 1
                    self.walk(value)
                    self.visitor.in_iterable -= 1
                elif cls is cst.If and name in ("body", "orelse"):
                    off = int(gil_test(node.test, self.visitor.code) == ("off" if name == "body" else "on"))
                    # ``if conflicts: formatted = ", ".join(...); raise Error(formatted)``: a branch that ends
                    # by raising is an error path; what it computes is the error's message
                    error = int(name == "body" and _ends_in_raise(value))
                    guard = none_test(node.test)
                    if guard is not None:
                        # ``if p is None:`` body: only when p is None; its ``else``: only when it is not
                        self.visitor.guards.append((guard[0], guard[1] == (name == "body")))
                    self.visitor.gil_off += off
                    self.visitor.in_raise += error
                    self.visitor.in_handler += error
                    self.walk(value)
                    self.visitor.gil_off -= off
                    self.visitor.in_raise -= error
                    self.visitor.in_handler -= error
                    if guard is not None:
                        self.visitor.guards.pop()
                else:
                    self.walk(value)
            elif isinstance(value, (list, tuple)):
                guarded = 0
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.walk(item)
                        if isinstance(item, cst.If) and _exits_when_gil_on(item, self.visitor.code):
                            guarded += 1  # ``if sys._is_gil_enabled(): return ...``: the rest runs without it
                            self.visitor.gil_off += 1
                self.visitor.gil_off -= guarded
        if leave is not None:
            leave(node)  # type: ignore[operator]


def summarise(module: cst.Module, path: str, module_name: str, is_package: bool,
              text: Optional[str] = None) -> ModuleSummary:
    """Facts about one parsed module.  ``text``, the source ``module`` was parsed from, lets node
    texts be slices of it rather than code generated again."""
    summary = ModuleSummary(path=path, module=module_name, is_package=is_package)
    positions = Positions(module, text)
    summary.source_lines = (module.code if text is None else text).count("\n") + 1
    visitor = Summariser(module, summary, positions)
    _Walker(visitor, RaceRecorder(visitor)).walk(module)
    summary.functions[ModuleSummary.MODULE_SCOPE] = visitor.module_function
    return summary


def _narrowed(ref: Ref, name: str, how: str) -> Ref:
    """``ref`` kept to coroutine functions (``how`` "async") or plain ones ("sync") when it is ``name``."""
    if ref.kind == "name" and ref.raw == name:
        return Ref("union", how, args=(ref,), text=ref.text)
    return ref
