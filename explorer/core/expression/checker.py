"""The whitelist over Python's ast: every problem found with its column, then the tree compiled."""

from __future__ import annotations

import ast
import math

from explorer.core.expression.errors import ParseError
from explorer.core.expression.language import (
    ARITY,
    BINOP_SYMBOLS,
    DECIMAL,
    MAX_DEPTH,
    VARIABLES,
    WORD,
    chain_kind,
)
from explorer.core.expression.messages import (
    BINOP_MESSAGES,
    CHAR_MESSAGES,
    COMPARE_TEXT,
    MSG_ASSIGN,
    MSG_COMMA,
    MSG_COMMENT,
    MSG_COMPLEX,
    MSG_CURLY,
    MSG_DECIMAL,
    MSG_DECIMAL_COMMA,
    MSG_DOUBLE_STAR,
    MSG_EMPTY_PARENS,
    MSG_SEMICOLON,
    MSG_SQUARE,
    MSG_STAR,
    MSG_STRING,
    MSG_TOO_DEEP,
    MSG_WALRUS,
    arity_message,
    attribute_message,
    compare_message,
    implicit_message,
    keyword_message,
    name_message,
    short,
    unknown_name,
)
from explorer.core.expression.source import Source
from explorer.core.expression.tree import Call, Chain, Const, Neg, Node, Num, Pow, Var


class Checker:
    """Walks a parsed module: collects every problem (the leftmost is raised), then compiles."""

    def __init__(self, source: Source) -> None:
        self.s = source
        self.errors: list[tuple[int, int, str]] = []
        self.uses_x = False
        self.uses_y = False
        # Where each compiled node came from (a Chain: the BinOp of each of its operations),
        # keyed by id: the nodes live in the tree, so their ids stay unique while it does.
        self.origin: dict[int, list[ast.expr]] = {}

    def fail(self, column: int, message: str) -> None:
        """Record a problem; the leftmost one is reported, the first found breaking ties."""
        self.errors.append((column, len(self.errors), message))

    def col(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """The user's column where a node starts."""
        return self.s.column(self.s.start(node))

    def col_after(self, node: ast.expr | ast.stmt) -> int:
        """The user's column of the operator or bracket that follows a node."""
        return self.s.column(self.s.skip(self.s.end(node)))

    def check_module(self, module: ast.Module) -> tuple[Node, bool, bool]:
        """Validate the one expression statement and compile it."""
        if not module.body:
            # Only a comment survives as an empty module (blank text was caught earlier).
            raise ParseError(MSG_COMMENT, self.s.column(max(self.s.src.find("#"), 0)))
        first = module.body[0]
        if isinstance(first, ast.Expr):
            self.walk(first.value)
        else:
            self.statement(first)
        rest = self.s.skip(self.s.end(first), " \t")
        if rest < len(self.s.src):
            found = self.s.src[rest]
            message = {";": MSG_SEMICOLON, "#": MSG_COMMENT}.get(found, f"unexpected '{found}'")
            self.fail(self.s.column(rest), message)
        if self.errors:
            column, _, message = min(self.errors)
            raise ParseError(message, column)
        assert isinstance(first, ast.Expr)
        tree = self.compile(first.value)
        self.check_defined(tree)
        return tree, self.uses_x, self.uses_y

    def check_defined(self, tree: Node) -> None:
        """Refuse a part without x and y that is undefined (1/0, log(-1)) or overflows (9**999).

        Such a part makes f undefined everywhere. Evaluated at x = y = NaN, every part that uses
        x or y is NaN, so the first operation that fails with finite inputs is a constant one.
        """
        from explorer.core.expression.undefined import first_failures

        failure = first_failures(tree, math.nan, math.nan)[1][0]
        if failure is None:
            return
        node = self.origin[id(failure.node)][failure.step]
        text = short(self.s.segment(node))
        if failure.overflow:
            message = f"{text} is too large for float64 numbers"
        else:
            message = f"{text} is undefined: {failure.reason}"
        raise ParseError(message, self.col(node))

    def statement(self, stmt: ast.stmt) -> None:
        """Report a statement that is not an expression (assignment, import, ...)."""
        if isinstance(stmt, ast.Assign):
            self.fail(self.col_after(stmt.targets[0]), MSG_ASSIGN)
        elif isinstance(stmt, ast.AugAssign):
            at = self.s.skip(self.s.end(stmt.target))
            op = self.s.user_text(at, self.s.src.find("=", at) + 1)
            self.fail(self.s.column(at), f"'{op}' is not allowed: enter just the function")
        elif isinstance(stmt, ast.AnnAssign):
            self.fail(self.col_after(stmt.target), "':' is not allowed")
        else:
            match = WORD.match(self.s.src, self.s.start(stmt))
            word = match.group() if match else self.s.segment(stmt)
            self.fail(self.col(stmt), f"'{short(word)}' is not allowed")

    def walk(self, root: ast.expr) -> None:
        """Check every node without recursion, measuring the depth as it goes."""
        stack: list[tuple[ast.expr, int]] = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                self.fail(self.col(node), MSG_TOO_DEEP)
                continue
            children = self.check(node)
            for child, same_level in reversed(children):
                stack.append((child, depth if same_level else depth + 1))

    def check(self, node: ast.expr) -> list[tuple[ast.expr, bool]]:
        """Check one node; return the children to check, each flagged if it adds no depth."""
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node)
            return []
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.fail(self.col(node), "'not' is not allowed")
                return []
            if isinstance(node.op, ast.Invert):
                self.fail(self.col(node), CHAR_MESSAGES["~"])
                return []
            return [(node.operand, False)]
        if isinstance(node, ast.BinOp):
            if type(node.op) not in BINOP_SYMBOLS:
                self.fail(self.col_after(node.left), BINOP_MESSAGES.get(type(node.op), "?"))
            # a + b - c is one flat sum (and a*b/c one product) to the user: a long sum is
            # long, not deep, so the left operand of a chain stays on the same level.
            kind = chain_kind(node.op)
            left = node.left
            same = isinstance(left, ast.BinOp) and kind is not None and chain_kind(left.op) == kind
            return [(left, same), (node.right, False)]
        if isinstance(node, ast.Call):
            return self.check_call(node)
        self.check_other(node)
        return []

    def check_constant(self, node: ast.Constant) -> None:
        """Numbers in plain decimal only; no strings, True, None or ..."""
        value = node.value
        text = self.s.segment(node)
        if isinstance(value, bool) or value is None:
            self.fail(self.col(node), f"'{text}' is not allowed")
        elif isinstance(value, (str, bytes)):
            self.fail(self.col(node), MSG_STRING)
        elif isinstance(value, complex):
            self.fail(self.col(node), MSG_COMPLEX)
        elif isinstance(value, (int, float)):
            if not DECIMAL.fullmatch(text):
                self.fail(self.col(node), MSG_DECIMAL)
        else:
            self.fail(self.col(node), f"'{short(text)}' is not allowed")

    def check_name(self, node: ast.Name) -> None:
        """x, y, pi and e; a function name must be called."""
        text = self.s.segment(node)
        # Python folds look-alike letters (NFKC): a fullwidth x arrives as 'x'. Only x is x.
        if text != node.id:
            self.fail(self.col(node), unknown_name(text))
            return
        self.uses_x |= node.id == "x"
        self.uses_y |= node.id == "y"
        message = name_message(node.id, called=False)
        if message is not None:
            self.fail(self.col(node), message)

    def check_call(self, node: ast.Call) -> list[tuple[ast.expr, bool]]:
        """A listed function with the right number of plain arguments, or implicit '*'."""
        func = node.func
        args = [(arg, False) for arg in node.args if not isinstance(arg, ast.Starred)]
        paren = self.s.skip(self.s.end(func))  # the '(' of the call
        name = self.s.segment(func) if isinstance(func, ast.Name) else ""
        if isinstance(func, ast.Name) and name == func.id and name in ARITY:
            starred = [arg for arg in node.args if isinstance(arg, ast.Starred)]
            for arg in starred:
                self.fail(self.col(arg), MSG_STAR)
            for kw in node.keywords:
                message = MSG_DOUBLE_STAR if kw.arg is None else keyword_message(kw.arg)
                self.fail(self.col(kw), message)
            # With unpacking or keywords the count means nothing; those are reported instead.
            if not starred and not node.keywords and len(node.args) != ARITY[name]:
                self.fail(self.col(func), arity_message(name, len(node.args)))
            return args
        problem = name_message(name, called=True) if isinstance(func, ast.Name) else None
        if problem is not None:
            self.fail(self.col(func), problem)
            return args
        number = isinstance(func, ast.Constant) and type(func.value) in (int, float)
        if number or isinstance(func, (ast.Name, ast.BinOp, ast.UnaryOp, ast.Call)):
            # "2(x+1)", "x(y)", "(x)(y)", "sin(x)(y)": a factor, then a bracket. The column is
            # that of the bracket: the second factor, where the '*' is missing.
            left = self.s.user_text(self.s.start(node), paren)
            right = self.s.user_text(paren, self.s.end(node))
            self.fail(self.s.column(paren), implicit_message(left, right))
            return [(func, False), *args]
        # A string, attribute, lambda, ... called: the check of func reports what it is.
        self.fail(self.s.column(paren), f"'{short(self.s.segment(func))}' is not a function")
        return [(func, False)]

    def check_other(self, node: ast.expr) -> None:
        """Name, in plain words, a construct that the language does not have."""
        column = self.col(node)
        if isinstance(node, ast.Attribute):
            message = attribute_message(node.attr)
            column = self.col_after(node.value)
        elif isinstance(node, ast.Subscript):
            message = MSG_SQUARE
            column = self.col_after(node.value)
        elif isinstance(node, (ast.List, ast.ListComp)):
            message = MSG_SQUARE
        elif isinstance(node, (ast.Dict, ast.Set, ast.DictComp, ast.SetComp)):
            message = MSG_CURLY
        elif isinstance(node, ast.Tuple):
            if node.elts:
                column = self.col_after(node.elts[0])
                message = MSG_COMMA
                touching = len(node.elts) > 1 and (
                    self.s.end(node.elts[0]) + 1 == self.s.start(node.elts[1])
                )
                if touching:
                    message += MSG_DECIMAL_COMMA
            else:
                message = MSG_EMPTY_PARENS
        elif isinstance(node, ast.JoinedStr):
            message = MSG_STRING
        elif isinstance(node, ast.GeneratorExp):
            message = "comprehensions ('for ... in') are not allowed"
        elif isinstance(node, ast.Lambda):
            message = "'lambda' is not allowed"
        elif isinstance(node, ast.IfExp):
            message = "conditional expressions ('if ... else') are not allowed"
            column = self.col_after(node.body)
        elif isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            message = f"'{word}' is not allowed"
            column = self.col_after(node.values[0])
        elif isinstance(node, ast.Compare):
            message = compare_message(COMPARE_TEXT.get(type(node.ops[0]), "?"))
            column = self.col_after(node.left)
        elif isinstance(node, ast.NamedExpr):
            message = MSG_WALRUS
            column = self.col_after(node.target)
        elif isinstance(node, ast.Await):
            message = "'await' is not allowed"
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            message = "'yield' is not allowed"
        elif isinstance(node, ast.Starred):
            message = MSG_STAR
        else:
            message = f"'{short(self.s.segment(node))}' is not allowed here"
        self.fail(column, message)

    def compile(self, node: ast.expr) -> Node:
        """The validated tree as plain nodes; recursion is bounded by the depth check."""
        compiled, origin = self._compile(node)
        self.origin.setdefault(id(compiled), origin)
        return compiled

    def _compile(self, node: ast.expr) -> tuple[Node, list[ast.expr]]:
        """One node compiled, and the ast node of each of its operations."""
        if isinstance(node, ast.Constant):
            # From the text, never from the Python value: float("9"*400) is inf, where
            # float(int) of that literal would raise OverflowError.
            return Num(float(self.s.segment(node))), [node]
        if isinstance(node, ast.Name):
            return (Var(node.id) if node.id in VARIABLES else Const(node.id)), [node]
        if isinstance(node, ast.UnaryOp):
            operand = self.compile(node.operand)
            if isinstance(node.op, ast.USub):
                return Neg(operand), [node]
            return operand, self.origin[id(operand)]
        if isinstance(node, ast.BinOp):
            kind = chain_kind(node.op)
            if kind is None:
                return Pow(self.compile(node.left), self.compile(node.right)), [node]
            # Gather the left spine with a loop so a 500-term sum costs no recursion.
            pending: list[tuple[str, ast.expr]] = []
            steps: list[ast.expr] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp) and chain_kind(current.op) == kind:
                pending.append((BINOP_SYMBOLS[type(current.op)], current.right))
                steps.append(current)
                current = current.left
            first = self.compile(current)
            rest = tuple((op, self.compile(operand)) for op, operand in reversed(pending))
            return Chain(first, rest), steps[::-1]
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return Call(node.func.id, tuple(self.compile(arg) for arg in node.args)), [node]
        raise AssertionError(f"unchecked node {type(node).__name__}")
