"""Facts for the race rules (GIL4xx), recorded in the summariser's one pass over a file.

:class:`RaceRecorder` rides along with :class:`~gillint.analysis.summary.Summariser` (the walk
calls both) and records, per function, every touch of state that may be shared between
threads — fields of ``self``, class attributes, names that are not local — with its shape
(a rebinding, a mutation of the object, a read-modify-write, a check-then-act, an
iteration), and the regions where a lock is held.  Like every summary it holds facts
only: whether a place is shared and whether a region's lock is a real, shared lock is
decided when the project is linked (:mod:`gillint.analysis.races`).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Protocol, Set, Tuple

import libcst as cst

from .model import AccessFact, FunctionSummary, ModuleSummary, Span
from .walk import walk_fields



class Summariser(Protocol):
    """What the recorder reads of the summariser it rides along with."""

    @property
    def function(self) -> FunctionSummary: ...

    def span(self, node: cst.CSTNode) -> Span: ...

    def text(self, node: cst.CSTNode) -> str: ...

# Methods that change the container they are called on.
MUTATING_METHODS = frozenset({
    "append", "appendleft", "extend", "extendleft", "insert", "pop", "popitem", "popleft", "remove", "discard",
    "add", "clear", "update", "setdefault", "move_to_end", "sort", "reverse", "__setitem__", "__delitem__",
})
# Calls that walk their argument lazily, one Python step per element.
LAZY_WALKS = frozenset({"enumerate", "reversed", "zip", "iter", "filter", "map"})
VIEW_METHODS = frozenset({"items", "keys", "values", "iteritems", "iterkeys", "itervalues"})
# Decorators that hold a lock around the whole method.
LOCKING_DECORATOR_WORDS = ("synchron", "lock")
RECEIVERS = ("self", "cls")
# A handler for these after a ``try`` that read a place acts on a failed lookup: an EAFP check-then-act.
LOOKUP_ERRORS = frozenset({"KeyError", "AttributeError", "IndexError", "LookupError"})


def place_of(node: cst.BaseExpression) -> str:
    """The state an expression names: ``self.x``, ``cls.x``, ``Registry.count``, ``cache``; else ""."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return "%s.%s" % (node.value.value, node.attr.value)
    return ""


def _end_after(span: Span, other: Span) -> bool:
    return (span[0], span[1]) > (other[2], other[3]) or (span[0], span[1]) >= (other[2], other[3])


class _Frame:
    """One function being walked: its open checks and its open ``acquire()`` calls per block."""

    __slots__ = ("checks", "blocks", "guards", "tied", "held", "reads", "trying")

    def __init__(self) -> None:
        self.checks: List[Tuple[Set[str], Span]] = []  # (places the test looks at, the test's span)
        self.blocks: List[List[Tuple[str, Span]]] = []  # per open block: (lock, where acquire() was)
        # per open block: checks of guard clauses (``if pool: return pool``) that hold for the rest of it
        self.guards: List[List[Tuple[Set[str], Span]]] = []
        self.tied: Dict[str, str] = {}  # local name -> the place it was read from (``v = cache.get(k)``)
        self.trying: List[Tuple[Set[str], Span]] = []  # per open ``try``: the places its body reads
        self.held = 0  # lock regions open at this point of the walk
        self.reads: Set[str] = set()


class RaceRecorder:
    """Records :class:`AccessFact` values and lock regions into the summariser's functions."""

    def __init__(self, summariser: "Summariser") -> None:
        self.s = summariser
        self.frames: List[_Frame] = [_Frame()]

    # ----------------------------------------------------------------- helpers
    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def in_function(self) -> bool:
        return self.s.function.qualname != ModuleSummary.MODULE_SCOPE

    def add(self, kind: str, place: str, node: cst.CSTNode, item: bool = False, constant: bool = False) -> None:
        if not place or not self.in_function():
            return
        function = self.s.function
        span = self.s.span(node)
        text = self.s.text(node).split("\n", 1)[0]
        function.accesses.append(AccessFact(kind, place, span, text, item, constant=constant))
        if kind in ("write", "mutate", "rmw"):
            open_checks = [check for block in self.frame.guards for check in block] + self.frame.checks
            for places, check in reversed(open_checks):
                if place in places and _end_after(span, check):
                    function.accesses.append(AccessFact("check-act", place, span, text, item, check, constant))
                    break

    def places_read(self, node: cst.CSTNode) -> Set[str]:
        """Every place an expression reads (not inside lambdas), plus the places that locals it reads were taken from."""
        found: Set[str] = set()
        stack: List[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Lambda):
                continue
            if isinstance(current, cst.Attribute):
                place = place_of(current)
                if place:
                    found.add(place)
            elif isinstance(current, cst.Name):
                found.add(current.value)
                tied = self.frame.tied.get(current.value)
                if tied:
                    found.add(tied)
            stack.extend(_children(current))
        return found

    # ----------------------------------------------------------------- scopes
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.frames.append(_Frame())
        function = self.s.function
        for decorator in function.decorators:
            last = decorator.rsplit(".", 1)[-1].lower()
            if any(word in last for word in LOCKING_DECORATOR_WORDS):
                function.lock_regions.append(("@" + decorator, function.span))
                self.frame.held += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.finish(self.s.function)
        self.frames.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.frames.append(_Frame())

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.finish(self.s.function)
        self.frames.pop()

    def finish(self, function: FunctionSummary) -> None:
        """Drop the touches of local names: only fields, class attributes and non-local names can be shared."""
        local = set(function.params) | set(function.assigns) | set(function.local_defs)
        local -= set(function.global_names)
        local -= set(RECEIVERS)
        function.accesses = [a for a in function.accesses if a.place.split(".", 1)[0] not in local]

    def visit_Global(self, node: cst.Global) -> None:
        self.s.function.global_names += tuple(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.s.function.global_names += tuple(item.name.value for item in node.names)

    # ----------------------------------------------------------------- locks
    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None or not self.in_function():
            return  # ``async with lock``: an asyncio lock, one thread
        for item in node.items:
            name = _dotted(item.item)
            if name:
                self.s.function.lock_regions.append((name, self.s.span(node)))
                self.frame.held += 1

    def leave_With(self, original_node: cst.With) -> None:
        if original_node.asynchronous is not None or not self.in_function():
            return
        self.frame.held -= sum(1 for item in original_node.items if _dotted(item.item))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.frame.blocks.append([])
        self.frame.guards.append([])

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        frame = self.frame
        if not frame.blocks:  # pragma: no cover - blocks always pair up
            return
        end = self.s.span(original_node)
        frame.guards.pop()
        for lock, start in frame.blocks.pop():
            self.s.function.lock_regions.append((lock, (start[0], start[1], end[2], end[3])))
            frame.held -= 1

    def visit_Expr(self, node: cst.Expr) -> None:
        """``lock.acquire()`` opens a region up to ``lock.release()`` in the same block (or the block's end)."""
        call = node.value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)) or not self.in_function():
            return
        lock = _dotted(call.func.value)
        if not lock or not self.frame.blocks:
            return
        block = self.frame.blocks[-1]
        if call.func.attr.value == "acquire":
            block.append((lock, self.s.span(node)))
            self.frame.held += 1
        elif call.func.attr.value == "release":
            for index in range(len(block) - 1, -1, -1):
                if block[index][0] == lock:
                    start = block.pop(index)[1]
                    end = self.s.span(node)
                    self.s.function.lock_regions.append((lock, (start[0], start[1], end[2], end[3])))
                    self.frame.held -= 1
                    break

    # ----------------------------------------------------------------- checks
    def _push_check(self, test: cst.BaseExpression) -> None:
        self.frame.checks.append((self.places_read(test), self.s.span(test)))

    def visit_If(self, node: cst.If) -> None:
        self._push_check(node.test)
        lock = _acquired(node.test)
        if lock and self.in_function():  # ``if lock.acquire(False):`` holds it in the body
            self.s.function.lock_regions.append((lock, self.s.span(node.body)))

    def leave_If(self, original_node: cst.If) -> None:
        check = self.frame.checks.pop()
        if original_node.orelse is None and _leaves(original_node.body) and self.frame.guards:
            self.frame.guards[-1].append(check)  # ``if cached: return cached`` guards the rest of the block

    def visit_While(self, node: cst.While) -> None:
        self._push_check(node.test)

    def leave_While(self, original_node: cst.While) -> None:
        self.frame.checks.pop()

    def visit_Try(self, node: cst.Try) -> None:
        """``try: return cache[k]`` / ``except KeyError: cache[k] = v``: the handler acts on what the body checked."""
        if self.in_function():
            self.frame.trying.append((self.places_read(node.body), self.s.span(node.body)))

    def leave_Try(self, original_node: cst.Try) -> None:
        if self.in_function():
            self.frame.trying.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        caught = node.type
        names = [caught] if caught is not None and not isinstance(caught, cst.Tuple) else (
            [el.value for el in caught.elements] if isinstance(caught, cst.Tuple) else [])
        looks_up = any(_dotted(name).rsplit(".", 1)[-1] in LOOKUP_ERRORS for name in names)
        self.frame.checks.append(self.frame.trying[-1] if looks_up and self.frame.trying else (set(), (0, 0, 0, 0)))

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self.frame.checks.pop()

    # ----------------------------------------------------------------- touches
    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        target = node.target
        if isinstance(target, cst.Subscript):
            self.add("rmw", place_of(target.value), node, item=True)
        else:
            self.add("rmw", place_of(target), node)

    def visit_Assign(self, node: cst.Assign) -> None:
        value_places: Optional[Set[str]] = None
        for target in node.targets:
            for element in _targets(target.target):
                if isinstance(element, cst.Subscript):
                    place = place_of(element.value)
                    if not place:
                        continue
                    if value_places is None:
                        value_places = self.places_read(node.value)
                    reads_items = place in value_places and _reads_items(node.value, place)
                    self.add("rmw" if reads_items else "mutate", place, node, item=True)
                else:
                    place = place_of(element)
                    if not place:
                        continue
                    if isinstance(element, cst.Name):
                        self.frame.tied.pop(element.value, None)
                        if element.value not in self.s.function.global_names:
                            self.add("write", place, node)  # a local, unless a nested function shares it
                            continue
                    if value_places is None:
                        value_places = self.places_read(node.value)
                    rmw = place in value_places and "." in place or (
                        isinstance(element, cst.Name) and element.value in self.s.function.global_names
                        and element.value in value_places)
                    if rmw and isinstance(node.value, cst.BooleanOperation):
                        rmw = False  # ``self.x = self.x or make()``: a lazy default, a check-then-act at most
                    self.add("rmw" if rmw else "write", place, node, constant=not rmw and _is_constant(node.value))
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            source = _read_source(node.value)
            if source:
                self.frame.tied[node.targets[0].target.value] = source

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            place = place_of(node.target)
            if place and "." in place:
                self.add("write", place, node)

    def visit_Del(self, node: cst.Del) -> None:
        for element in _targets(node.target):
            if isinstance(element, cst.Subscript):
                self.add("mutate", place_of(element.value), node, item=True)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in MUTATING_METHODS:
            self.add("mutate", place_of(func.value), node, item=True)

    def visit_For(self, node: cst.For) -> None:
        self.add("iterate", _walked(node.iter), node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.add("iterate", _walked(node.iter), node.iter)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.frame.held and isinstance(node.value, cst.Name):
            # ``self.x`` is a field; ``cache.get`` reads the name ``cache``
            self._read(place_of(node) if node.value.value in RECEIVERS else node.value.value, node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self.frame.held and isinstance(node.value, cst.Name):
            self._read(node.value.value, node)

    def _read(self, place: str, node: cst.CSTNode) -> None:
        if place and place not in self.frame.reads:
            self.frame.reads.add(place)
            self.add("read", place, node)


def _children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The child nodes, read straight from the fields (libcst's ``children`` property re-walks the node)."""
    found: List[cst.CSTNode] = []
    for name in walk_fields(type(node)):  # punctuation and whitespace left out
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found


def _dotted(node: cst.BaseExpression) -> str:
    parts: List[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return ""
    parts.append(node.value)
    return ".".join(reversed(parts))


def _is_constant(value: cst.BaseExpression) -> bool:
    """A literal, None/True/False, or a name in capitals (``STATE_STOPPED``)."""
    if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    if isinstance(value, cst.Name):
        return value.value in ("None", "True", "False") or (value.value.isupper() and len(value.value) > 1)
    return False


def _leaves(body: cst.BaseSuite) -> bool:
    """A body that ends by leaving the block: ``return``, ``raise``, ``continue``, ``break``."""
    statements = body.body
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    return isinstance(last, (cst.Return, cst.Raise, cst.Continue, cst.Break))


def _acquired(test: cst.BaseExpression) -> str:
    """``lock.acquire(...)`` as an ``if`` test: the lock held in the body."""
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "acquire":
        return _dotted(test.func.value)
    return ""


def _targets(target: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        found: List[cst.BaseExpression] = []
        for element in target.elements:
            found.extend(_targets(element.value))
        return found
    return [target]


def _walked(iterable: cst.BaseExpression) -> str:
    """The place a loop walks step by step: ``xs``, ``self.jobs.items()``, ``enumerate(self.rows)``; a copy
    (``list(xs)``, ``sorted(d)``, ``d.copy()``) is taken in one C call and walks nothing shared."""
    if isinstance(iterable, cst.Call):
        func = iterable.func
        if isinstance(func, cst.Attribute) and func.attr.value in VIEW_METHODS and not iterable.args:
            return place_of(func.value)
        if isinstance(func, cst.Name) and func.value in LAZY_WALKS and iterable.args:
            return _walked(iterable.args[0].value)
        return ""
    return place_of(iterable)


def _read_source(value: cst.BaseExpression) -> str:
    """The place a local takes a value out of: ``cache.get(k)``, ``cache[k]``, ``self._conn``."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get":
        return place_of(value.func.value)
    if isinstance(value, cst.Subscript):
        return place_of(value.value)
    if isinstance(value, cst.Attribute):
        place = place_of(value)
        return place if place.split(".", 1)[0] in RECEIVERS else ""
    return ""


def _reads_items(value: cst.BaseExpression, place: str) -> bool:
    """Whether ``value`` reads an item of ``place`` (``d.get(k, 0) + 1``, ``d[k] + 1``)."""
    stack: List[cst.CSTNode] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Subscript) and place_of(current.value) == place:
            return True
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute) and current.func.attr.value in (
                "get", "setdefault") and place_of(current.func.value) == place:
            return True
        stack.extend(_children(current))
    return False
