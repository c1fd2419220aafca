"""What the codemods share: replacing planned nodes, adding module-level code, imports, the process pool."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, ImportItem, RemoveImportsVisitor

from ..plan import FixContext, NoFix
from ..source import SourceFile, dotted

Replacement = Union[cst.CSTNode, cst.RemovalSentinel, Callable[[cst.CSTNode], cst.CSTNode]]

# The module-level process pool the asyncio fixes share, created on first use: importing the module
# (as every spawned worker does) starts no processes.
POOL_FUNCTION = "_process_pool"
POOL_VARIABLE = "_PROCESS_POOL"
POOL_HELPER = '''\
%(var)s = None


def %(func)s():
    """The process pool for CPU-bound work, created on first use."""
    global %(var)s
    if %(var)s is None:
        %(var)s = ProcessPoolExecutor()
    return %(var)s
''' % {"var": POOL_VARIABLE, "func": POOL_FUNCTION}


class Rewrite(cst.CSTTransformer):
    """Replace the planned nodes (matched by identity) and insert statements before top-level ones."""

    def __init__(self, replace: Dict[cst.CSTNode, Replacement],
                 insert_before: Optional[Dict[cst.CSTNode, Sequence[cst.BaseStatement]]] = None) -> None:
        super().__init__()
        self.replace = replace
        self.insert_before = insert_before or {}

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def, override]
        if isinstance(original_node, cst.Module):
            return self.leave_Module(original_node, updated_node)
        change = self.replace.get(original_node)
        if change is None:
            return updated_node
        if callable(change) and not isinstance(change, cst.CSTNode):
            return change(updated_node)
        return change

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.insert_before:
            return updated_node
        body: List[cst.BaseStatement] = []
        for original, updated in zip(original_node.body, updated_node.body):
            inserted = self.insert_before.get(original, ())
            if inserted:
                body.extend(inserted)
                # what follows a module-level definition starts two blank lines down (PEP 8)
                kept = [line for line in updated.leading_lines if line.comment is not None]
                updated = updated.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()] + kept)
            body.append(updated)
        return updated_node.with_changes(body=body)


def with_imports(tree: cst.Module, add: Sequence[ImportItem] = (),
                 remove: Sequence[Tuple[str, Optional[str], Optional[str]]] = ()) -> cst.Module:
    """Add imports (where the module's imports are) and drop the given ones if nothing uses them now."""
    if add:
        tree = AddImportsVisitor(CodemodContext(), list(add)).transform_module(tree)
    for spec in remove:
        tree = _remove_import(tree, spec)
    return tree


def _remove_import(tree: cst.Module, spec: Tuple[str, Optional[str], Optional[str]]) -> cst.Module:
    """Drop an import nothing uses any more; the comments above it stay, on the statement that follows."""
    removed = RemoveImportsVisitor(CodemodContext(), [spec]).transform_module(tree)
    if len(removed.body) == len(tree.body):
        return removed  # the name was unused in a statement importing others too, or it is still used
    index = next((i for i, statement in enumerate(tree.body) if _imports(statement, spec)), None)
    if index is None or index + 1 >= len(tree.body):
        return removed
    statement, following = tree.body[index], tree.body[index + 1]
    comments = [line for line in statement.leading_lines if line.comment is not None]
    if not comments:
        return removed
    body = list(tree.body)
    body[index] = statement.with_changes(leading_lines=[])
    body[index + 1] = following.with_changes(leading_lines=list(statement.leading_lines) + list(following.leading_lines))
    return RemoveImportsVisitor(CodemodContext(), [spec]).transform_module(tree.with_changes(body=body))


def _imports(statement: cst.CSTNode, spec: Tuple[str, Optional[str], Optional[str]]) -> bool:
    module, name, _ = spec
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.ImportFrom) and small.module is not None and dotted(small.module) == module \
                and not isinstance(small.names, cst.ImportStar):
            if any(dotted(alias.name) == name for alias in small.names):
                return True
    return False


def import_of(source: SourceFile, local: str) -> Optional[Tuple[str, Optional[str], Optional[str]]]:
    """The (module, name, alias) import that binds ``local`` at module level, for RemoveImportsVisitor."""
    for statement in source.tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar) and small.module:
                if small.relative:
                    continue
                for alias in small.names:
                    bound = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                    if bound == local:
                        return (dotted(small.module), dotted(alias.name),
                                alias.asname.name.value if alias.asname else None)  # type: ignore[union-attr]
    return None


def first_code_statement(tree: cst.Module) -> Optional[cst.BaseStatement]:
    """The first top-level statement after the docstring and the imports (where module-level helpers go)."""
    for index, statement in enumerate(tree.body):
        if isinstance(statement, cst.SimpleStatementLine):
            small = statement.body
            if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in small):
                continue
            if index == 0 and len(small) == 1 and isinstance(small[0], cst.Expr) and isinstance(
                    small[0].value, (cst.SimpleString, cst.ConcatenatedString)):
                continue
        if isinstance(statement, cst.Try) and all(
                isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)
                for s in statement.body.body):
            continue  # try: import fast / except ImportError: import slow
        return statement
    return None


def spaced(statements: Sequence[cst.BaseStatement]) -> List[cst.BaseStatement]:
    """Module-level statements as PEP 8 wants them before what follows: the first one two blank lines down."""
    out = list(statements)
    if out:
        out[0] = out[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    return out


def module_names(source: SourceFile) -> set:
    """Every name bound at module level (definitions, assignments, imports)."""
    names = set()
    scope = None
    scopes = source.scopes
    for statement in source.tree.body:
        scope = scopes.get(statement)
        if scope is not None:
            break
    if scope is not None:
        names.update(assignment.name for assignment in scope.assignments)
    return names


class ProcessPoolChoice:
    """The expression that names the process pool in asyncio fixes, with what it needs added."""

    def __init__(self, context: FixContext, source: SourceFile) -> None:
        configured = str(context.config.fix.get("process-pool", "")) if getattr(context.config, "fix", None) else ""
        self.helper: List[cst.BaseStatement] = []
        self.imports: List[ImportItem] = []
        if configured:
            module, _, expression = configured.partition(":")
            if not module or not expression:
                raise NoFix("`fix.process-pool` must look like \"package.module:POOL\" or \"package.module:get_pool()\"")
            head = expression.split(".", 1)[0].split("(", 1)[0]
            self.expression = cst.parse_expression(expression)
            self.imports.append(ImportItem(module, head))
            self.label = expression
            return
        self.expression = cst.parse_expression("%s()" % POOL_FUNCTION)
        self.label = "a module-level ProcessPoolExecutor created on first use (`%s()`)" % POOL_FUNCTION
        existing = next((s for s in source.tree.body if isinstance(s, cst.FunctionDef) and s.name.value == POOL_FUNCTION),
                        None)
        if existing is not None:
            return  # an earlier fix added it (or the user has one by that name: it is used as is)
        if POOL_FUNCTION in module_names(source) or POOL_VARIABLE in module_names(source):
            raise NoFix("the module already binds `%s` or `%s` to something else" % (POOL_FUNCTION, POOL_VARIABLE))
        self.helper = list(cst.parse_module(POOL_HELPER).body)
        self.imports.append(ImportItem("concurrent.futures", "ProcessPoolExecutor"))

    def place(self, source: SourceFile, inserts: Dict[cst.CSTNode, Sequence[cst.BaseStatement]]) -> None:
        if not self.helper:
            return
        anchor = first_code_statement(source.tree)
        if anchor is None:  # pragma: no cover - the finding is in some statement after the imports
            raise NoFix("no place for the module-level process pool")
        inserts[anchor] = list(inserts.get(anchor, ())) + spaced(self.helper)


def call_args(call: cst.Call) -> Tuple[List[cst.Arg], List[cst.Arg]]:
    """(positional, keyword) arguments; a `*`/`**` argument means no fix."""
    if any(arg.star for arg in call.args):
        raise NoFix("the call passes `*` or `**` arguments, which gillint cannot check")
    return [a for a in call.args if a.keyword is None], [a for a in call.args if a.keyword is not None]


def arg_list(values: Sequence[cst.BaseExpression], keywords: Sequence[cst.Arg] = ()) -> List[cst.Arg]:
    args = [cst.Arg(value=v) for v in values] + [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in keywords]
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]


def keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` written as PEP 8 wants it in a call."""
    return cst.Arg(value=value, keyword=cst.Name(name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def partial_of(function: cst.BaseExpression, keywords: Sequence[cst.Arg]) -> cst.BaseExpression:
    """``function``, or ``functools.partial(function, k=v, ...)`` when keywords must be bound."""
    if not keywords:
        return function
    return cst.Call(func=cst.parse_expression("functools.partial"), args=arg_list([function], keywords))
