"""Tokenizer and parser for the busybox ``ash`` subset PodLab runs.

``parse(source) -> Node`` returns a syntax tree or raises :class:`ShellSyntaxError` whose
message follows ash (``syntax error: unexpected "fi"``). Words keep their structure (literal
text, quoted or not, parameter expansions, command and arithmetic substitutions) so the
interpreter can expand them later with the right field splitting.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

__all__ = [
    "AndOr",
    "Arith",
    "Case",
    "CmdSub",
    "For",
    "FuncDef",
    "Group",
    "If",
    "ListNode",
    "Lit",
    "Loop",
    "Node",
    "Param",
    "Pipeline",
    "Redir",
    "ShellSyntaxError",
    "Simple",
    "Subshell",
    "Word",
    "parse",
]

MAX_SOURCE = 200_000
MAX_DEPTH = 200


class ShellSyntaxError(Exception):
    """A parse failure; ``str()`` is ash's text after ``sh: ``."""


# --- words ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    op: str = ""  # "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "len", "#", "##", "%", "%%"
    arg: Word | None = None
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class CmdSub:
    body: Node
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Arith:
    expr: Word
    quoted: bool = False


Part = Lit | Param | CmdSub | Arith


@dataclass(frozen=True, slots=True)
class Word:
    parts: tuple[Part, ...]
    raw: str

    def literal(self) -> str | None:
        """The text if the word is one unquoted literal (reserved words, names)."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None


# --- nodes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redir:
    fd: int
    op: str  # ">", ">>", "<", ">&", "<&", "<>", "<<"
    target: Word


@dataclass(frozen=True, slots=True)
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]


@dataclass(frozen=True, slots=True)
class Pipeline:
    commands: list[Node]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]


@dataclass(frozen=True, slots=True)
class ListNode:
    items: list[tuple[Node, bool]]  # (command, run in background)


@dataclass(frozen=True, slots=True)
class Group:
    body: Node
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Subshell:
    body: Node
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class If:
    clauses: list[tuple[Node, Node]]
    else_body: Node | None
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Loop:
    cond: Node
    body: Node
    until: bool = False
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class For:
    var: str
    words: list[Word] | None
    body: Node
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Case:
    word: Word
    items: list[tuple[list[Word], Node | None]]
    redirs: list[Redir] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FuncDef:
    name: str
    body: Node


Node = Simple | Pipeline | AndOr | ListNode | Group | Subshell | If | Loop | For | Case | FuncDef


# --- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # "word", "op", "newline", "eof", "ionum", "heredoc"
    value: str
    word: Word | None = None
    holder: list[Word] | None = None  # a here-document body, filled after the next newline


OPERATORS = (
    "&&", "||", ";;", ">>", "<<", ">&", "<&", "<>", ">|", "|", "&", ";", "(", ")", "<", ">",
)
RESERVED = frozenset(
    {"if", "then", "elif", "else", "fi", "do", "done", "while", "until", "for", "in", "case",
     "esac", "{", "}", "!"}
)
SPECIAL_PARAMS = "?$#@*!-0123456789"


def _is_name(text: str) -> bool:
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(
        c.isalnum() or c == "_" for c in text
    ) and text.isascii()


class _Lexer:
    def __init__(self, src: str, depth: int) -> None:
        self.src = src
        self.pos = 0
        self.depth = depth
        self.heredocs: list[tuple[str, bool, list[Word]]] = []

    def error(self, text: str) -> ShellSyntaxError:
        return ShellSyntaxError(f"syntax error: {text}")

    def tokens(self) -> list[Tok]:
        out: list[Tok] = []
        src = self.src
        while True:
            # skip blanks and comments
            while self.pos < len(src):
                c = src[self.pos]
                if c in " \t\r":
                    self.pos += 1
                elif c == "\\" and src.startswith("\\\n", self.pos):
                    self.pos += 2
                elif c == "#":
                    while self.pos < len(src) and src[self.pos] != "\n":
                        self.pos += 1
                else:
                    break
            if self.pos >= len(src):
                out.append(Tok("eof", ""))
                return out
            c = src[self.pos]
            if c == "\n":
                self.pos += 1
                out.append(Tok("newline", "\n"))
                if self.heredocs:
                    self._read_heredocs()
                continue
            op = next((o for o in OPERATORS if src.startswith(o, self.pos)), None)
            if op is not None:
                self.pos += len(op)
                out.append(Tok("op", op))
                if op == "<<":
                    out.append(self._heredoc_word())
                continue
            start = self.pos
            word = self._word()
            raw = src[start : self.pos]
            word = Word(word.parts, raw)
            if raw.isdigit() and self.pos < len(src) and src[self.pos] in "<>":
                out.append(Tok("ionum", raw))
            else:
                out.append(Tok("word", raw, word))

    # here-documents: the body follows the next newline
    def _heredoc_word(self) -> Tok:
        strip = False
        if self.src.startswith("-", self.pos):
            strip = True
            self.pos += 1
        while self.pos < len(self.src) and self.src[self.pos] in " \t":
            self.pos += 1
        start = self.pos
        word = self._word()
        raw = self.src[start : self.pos]
        if not raw:
            raise self.error("unexpected newline")
        delim = raw.replace('"', "").replace("'", "").replace("\\", "")
        quoted = delim != raw
        holder: list[Word] = []
        self.heredocs.append((delim + ("\0strip" if strip else ""), quoted, holder))
        del word
        return Tok("heredoc", raw, None, holder)

    def _read_heredocs(self) -> None:
        for key, quoted, holder in self.heredocs:
            strip = key.endswith("\0strip")
            delim = key.removesuffix("\0strip")
            lines: list[str] = []
            while True:
                if self.pos >= len(self.src):
                    break
                end = self.src.find("\n", self.pos)
                if end < 0:
                    end = len(self.src)
                line = self.src[self.pos : end]
                self.pos = min(end + 1, len(self.src))
                if strip:
                    line = line.lstrip("\t")
                if line == delim:
                    break
                lines.append(line + "\n")
            body = "".join(lines)
            if quoted:
                holder.append(Word((Lit(body, True),), body))
            else:
                sub = _Lexer(body, self.depth + 1)
                holder.append(Word(tuple(sub._dquote_body(len(body))), body))
        self.heredocs = []

    def _word(self) -> Word:
        src = self.src
        parts: list[Part] = []
        buf: list[str] = []

        def flush(quoted: bool = False) -> None:
            if buf:
                parts.append(Lit("".join(buf), quoted))
                buf.clear()

        while self.pos < len(src):
            c = src[self.pos]
            if c in " \t\r\n;&|()<>":
                break
            if c == "\\":
                if self.pos + 1 >= len(src):
                    self.pos += 1
                    buf.append("\\")
                    continue
                nxt = src[self.pos + 1]
                self.pos += 2
                if nxt == "\n":
                    continue
                flush()
                parts.append(Lit(nxt, True))
            elif c == "'":
                end = src.find("'", self.pos + 1)
                if end < 0:
                    raise self.error("unterminated quoted string")
                flush()
                parts.append(Lit(src[self.pos + 1 : end], True))
                self.pos = end + 1
            elif c == '"':
                flush()
                self.pos += 1
                inner = self._dquote_body(None)
                parts.extend(inner if inner else [Lit("", True)])
            elif c == "$":
                flush()
                parts.append(self._dollar(False))
            elif c == "`":
                flush()
                parts.append(self._backquote(False))
            else:
                buf.append(c)
                self.pos += 1
        flush()
        return Word(tuple(parts), "")

    def _dquote_body(self, stop_at: int | None) -> list[Part]:
        """Read a double-quoted body; ``stop_at`` None means up to the closing quote."""
        src = self.src
        parts: list[Part] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf), True))
                buf.clear()

        while True:
            if stop_at is not None and self.pos >= stop_at:
                break
            if self.pos >= len(src):
                if stop_at is None:
                    raise self.error("unterminated quoted string")
                break
            c = src[self.pos]
            if c == '"' and stop_at is None:
                self.pos += 1
                break
            if c == "\\" and self.pos + 1 < len(src):
                nxt = src[self.pos + 1]
                if nxt in '$`"\\\n' and not (nxt == '"' and stop_at is not None):
                    if nxt != "\n":
                        buf.append(nxt)
                    self.pos += 2
                    continue
                buf.append("\\")
                self.pos += 1
            elif c == "$":
                flush()
                parts.append(self._dollar(True))
            elif c == "`":
                flush()
                parts.append(self._backquote(True))
            else:
                buf.append(c)
                self.pos += 1
        flush()
        return parts

    def _dollar(self, quoted: bool) -> Part:
        src = self.src
        self.pos += 1  # the $
        if self.pos >= len(src):
            return Lit("$", quoted)
        c = src[self.pos]
        if src.startswith("((", self.pos):
            end = self._match_paren(self.pos + 2, 2)
            if src[end - 1] != ")":
                raise self.error("unexpected end of file (expecting \")\")")
            text = src[self.pos + 2 : end - 1]
            self.pos = end + 1
            sub = _Lexer(text, self.depth + 1)
            return Arith(Word(tuple(sub._dquote_body(len(text))), text), quoted)
        if c == "(":
            end = self._match_paren(self.pos + 1, 1)
            text = src[self.pos + 1 : end]
            self.pos = end + 1
            return CmdSub(_parse(text, self.depth + 1), quoted)
        if c == "{":
            return self._brace(quoted)
        if c in SPECIAL_PARAMS:
            self.pos += 1
            return Param(c, quoted=quoted)
        if c.isalpha() or c == "_":
            start = self.pos
            while self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] == "_"):
                self.pos += 1
            return Param(src[start : self.pos], quoted=quoted)
        return Lit("$", quoted)

    def _brace(self, quoted: bool) -> Part:
        src = self.src
        self.pos += 1  # the {
        length = False
        if src.startswith("#", self.pos) and self.pos + 1 < len(src) and src[self.pos + 1] != "}":
            length = True
            self.pos += 1
        start = self.pos
        if self.pos < len(src) and src[self.pos] in SPECIAL_PARAMS:
            self.pos += 1
            if src[start].isdigit():
                while self.pos < len(src) and src[self.pos].isdigit():
                    self.pos += 1
        else:
            while self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] == "_"):
                self.pos += 1
        name = src[start : self.pos]
        if not name or not (name.isdigit() or name in SPECIAL_PARAMS or _is_name(name)):
            raise ShellSyntaxError("syntax error: bad substitution")
        if length:
            if not src.startswith("}", self.pos):
                raise ShellSyntaxError("syntax error: bad substitution")
            self.pos += 1
            return Param(name, "len", None, quoted)
        if src.startswith("}", self.pos):
            self.pos += 1
            return Param(name, "", None, quoted)
        op = next(
            (o for o in (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%")
             if src.startswith(o, self.pos)),
            None,
        )
        if op is None:
            raise ShellSyntaxError("syntax error: bad substitution")
        self.pos += len(op)
        end = self._match_brace(self.pos)
        text = src[self.pos : end]
        self.pos = end + 1
        sub = _Lexer(text, self.depth + 1)
        if quoted:
            arg = Word(tuple(sub._dquote_body(len(text))), text)
        else:
            arg = sub._word_until_end()
        return Param(name, op, arg, quoted)

    def _word_until_end(self) -> Word:
        """Parse the whole source as one word (operators count as text)."""
        parts: list[Part] = []
        while self.pos < len(self.src):
            w = self._word()
            parts.extend(w.parts)
            if self.pos < len(self.src):
                parts.append(Lit(self.src[self.pos]))
                self.pos += 1
        return Word(tuple(parts), self.src)

    def _backquote(self, quoted: bool) -> Part:
        src = self.src
        self.pos += 1
        buf: list[str] = []
        while True:
            if self.pos >= len(src):
                raise self.error('unterminated quoted string')
            c = src[self.pos]
            if c == "`":
                self.pos += 1
                break
            if c == "\\" and self.pos + 1 < len(src) and src[self.pos + 1] in "`\\$":
                buf.append(src[self.pos + 1])
                self.pos += 2
                continue
            buf.append(c)
            self.pos += 1
        return CmdSub(_parse("".join(buf), self.depth + 1), quoted)

    def _skip_quoted(self, pos: int) -> int:
        """Index just past the quoted string or escape starting at ``pos``."""
        src = self.src
        c = src[pos]
        if c == "\\":
            return pos + 2
        if c == "'":
            end = src.find("'", pos + 1)
            if end < 0:
                raise self.error("unterminated quoted string")
            return end + 1
        pos += 1
        while pos < len(src) and src[pos] != '"':
            pos += 2 if src[pos] == "\\" else 1
        if pos >= len(src):
            raise self.error("unterminated quoted string")
        return pos + 1

    def _match_paren(self, pos: int, depth: int) -> int:
        """Index of the ``)`` that brings ``depth`` open parentheses back to zero."""
        src = self.src
        while pos < len(src):
            c = src[pos]
            if c in "\\'\"":
                pos = self._skip_quoted(pos)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    return pos
            pos += 1
        raise self.error('unexpected end of file (expecting ")")')

    def _match_brace(self, pos: int) -> int:
        src = self.src
        depth = 1
        while pos < len(src):
            c = src[pos]
            if c in "\\'\"":
                pos = self._skip_quoted(pos)
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return pos
            pos += 1
        raise ShellSyntaxError("syntax error: bad substitution")


# --- parser ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, toks: list[Tok], depth: int) -> None:
        self.toks = toks
        self.i = 0
        self.depth = depth

    def peek(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def unexpected(self, tok: Tok, expecting: str | None = None) -> ShellSyntaxError:
        if tok.kind == "eof":
            if expecting:
                return ShellSyntaxError(
                    f'syntax error: unexpected end of file (expecting "{expecting}")'
                )
            return ShellSyntaxError("syntax error: unexpected end of file")
        if tok.kind == "newline":
            return ShellSyntaxError("syntax error: unexpected newline")
        return ShellSyntaxError(f'syntax error: unexpected "{tok.value}"')

    def is_reserved(self, tok: Tok, *names: str) -> bool:
        return tok.kind == "word" and tok.word is not None and tok.word.literal() in names

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.next()

    def expect_word(self, name: str) -> None:
        tok = self.next()
        if not self.is_reserved(tok, name):
            raise self.unexpected(tok, name)

    # program and lists

    def program(self) -> Node:
        self.skip_newlines()
        if self.peek().kind == "eof":
            return ListNode([])
        node = self.compound_list(top=True)
        tok = self.peek()
        if tok.kind != "eof":
            raise self.unexpected(tok)
        return node

    def compound_list(self, top: bool = False, expecting: str | None = None) -> ListNode:
        items: list[tuple[Node, bool]] = []
        self.skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof":
                break
            if tok.kind == "op" and tok.value in (")", ";;"):
                break
            if self.is_reserved(tok, "then", "elif", "else", "fi", "do", "done", "esac", "}"):
                break
            node = self.and_or()
            background = False
            tok = self.peek()
            if tok.kind == "op" and tok.value in (";", "&"):
                background = tok.value == "&"
                self.next()
                items.append((node, background))
                self.skip_newlines()
                continue
            if tok.kind == "newline":
                items.append((node, False))
                self.skip_newlines()
                continue
            items.append((node, False))
            break
        if not items and not top:
            raise self.unexpected(self.peek(), expecting)
        return ListNode(items)

    def and_or(self) -> Node:
        first = self.pipeline()
        rest: list[tuple[str, Node]] = []
        while self.peek().kind == "op" and self.peek().value in ("&&", "||"):
            op = self.next().value
            self.skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest) if rest else first

    def pipeline(self) -> Node:
        negate = False
        if self.is_reserved(self.peek(), "!"):
            self.next()
            negate = True
        commands = [self.command()]
        while self.peek().kind == "op" and self.peek().value == "|":
            self.next()
            self.skip_newlines()
            commands.append(self.command())
        if len(commands) == 1 and not negate:
            return commands[0]
        return Pipeline(commands, negate)

    def command(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ShellSyntaxError("syntax error: nesting too deep")
        try:
            return self._command()
        finally:
            self.depth -= 1

    def _command(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value == "(":
            self.next()
            body = self.compound_list(expecting=")")
            close = self.next()
            if not (close.kind == "op" and close.value == ")"):
                raise self.unexpected(close, ")")
            return Subshell(body, self.redirects())
        if tok.kind == "word" and tok.word is not None:
            lit = tok.word.literal()
            if lit == "{":
                self.next()
                body = self.compound_list(expecting="}")
                self.expect_word("}")
                return Group(body, self.redirects())
            if lit == "if":
                return self.if_clause()
            if lit in ("while", "until"):
                self.next()
                cond = self.compound_list(expecting="do")
                self.expect_word("do")
                body = self.compound_list(expecting="done")
                self.expect_word("done")
                return Loop(cond, body, lit == "until", self.redirects())
            if lit == "for":
                return self.for_clause()
            if lit == "case":
                return self.case_clause()
            if lit in ("then", "elif", "else", "fi", "do", "done", "esac", "}", "in"):
                if lit != "in":
                    raise self.unexpected(tok)
            # function definition: name ( )
            nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            nxt2 = self.toks[self.i + 2] if self.i + 2 < len(self.toks) else None
            if (
                lit is not None
                and _is_name(lit)
                and nxt is not None
                and nxt.kind == "op"
                and nxt.value == "("
                and nxt2 is not None
                and nxt2.kind == "op"
                and nxt2.value == ")"
            ):
                self.i += 3
                self.skip_newlines()
                body_tok = self.peek()
                body = self.command()
                if isinstance(body, Simple):
                    raise self.unexpected(body_tok)
                return FuncDef(lit, body)
        return self.simple()

    def redirects(self) -> list[Redir]:
        redirs: list[Redir] = []
        while True:
            r = self.redirect()
            if r is None:
                return redirs
            redirs.append(r)

    def redirect(self) -> Redir | None:
        tok = self.peek()
        fd: int | None = None
        if tok.kind == "ionum":
            fd = int(tok.value) if len(tok.value) < 4 else 9999
            self.next()
            tok = self.peek()
        if tok.kind == "op" and tok.value in ("<", ">", ">>", ">&", "<&", "<>", ">|", "<<"):
            self.next()
            target = self.next()
            if tok.value == "<<":
                if target.kind != "heredoc" or target.holder is None:
                    raise self.unexpected(target)
                return Redir(0 if fd is None else fd, "<<", _LazyHeredoc(target.holder))  # type: ignore[arg-type]
            if target.kind != "word" or target.word is None:
                raise self.unexpected(target)
            op = ">" if tok.value == ">|" else tok.value
            default = 0 if op in ("<", "<&", "<>") else 1
            return Redir(default if fd is None else fd, op, target.word)
        if fd is not None:
            raise self.unexpected(tok)
        return None

    def simple(self) -> Node:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redir] = []
        while True:
            r = self.redirect()
            if r is not None:
                redirs.append(r)
                continue
            tok = self.peek()
            if tok.kind != "word" or tok.word is None:
                break
            if not words:
                eq = tok.value.find("=")
                if eq > 0 and _is_name(tok.value[:eq]):
                    self.next()
                    assigns.append((tok.value[:eq], _strip_prefix(tok.word, eq + 1)))
                    continue
            self.next()
            words.append(tok.word)
        if not (assigns or words or redirs):
            raise self.unexpected(self.peek())
        return Simple(assigns, words, redirs)

    def if_clause(self) -> Node:
        self.next()
        clauses: list[tuple[Node, Node]] = []
        cond = self.compound_list(expecting="then")
        self.expect_word("then")
        body = self.compound_list(expecting="fi")
        clauses.append((cond, body))
        else_body: Node | None = None
        while True:
            tok = self.next()
            if self.is_reserved(tok, "elif"):
                cond = self.compound_list(expecting="then")
                self.expect_word("then")
                body = self.compound_list(expecting="fi")
                clauses.append((cond, body))
                continue
            if self.is_reserved(tok, "else"):
                else_body = self.compound_list(expecting="fi")
                self.expect_word("fi")
                break
            if self.is_reserved(tok, "fi"):
                break
            raise self.unexpected(tok, "fi")
        return If(clauses, else_body, self.redirects())

    def for_clause(self) -> Node:
        self.next()
        name_tok = self.next()
        name = name_tok.word.literal() if name_tok.word else None
        if name_tok.kind != "word" or not name or not _is_name(name):
            raise ShellSyntaxError("syntax error: bad for loop variable")
        self.skip_newlines()
        words: list[Word] | None = None
        if self.is_reserved(self.peek(), "in"):
            self.next()
            words = []
            while self.peek().kind == "word" and self.peek().word is not None:
                words.append(self.next().word)  # type: ignore[arg-type]
            tok = self.peek()
            if tok.kind == "op" and tok.value == ";" or tok.kind == "newline":
                self.next()
            else:
                raise self.unexpected(tok)
        elif self.peek().kind == "op" and self.peek().value == ";":
            self.next()
        self.skip_newlines()
        self.expect_word("do")
        body = self.compound_list(expecting="done")
        self.expect_word("done")
        return For(name, words, body, self.redirects())

    def case_clause(self) -> Node:
        self.next()
        tok = self.next()
        if tok.kind != "word" or tok.word is None:
            raise self.unexpected(tok)
        word = tok.word
        self.skip_newlines()
        self.expect_word("in")
        items: list[tuple[list[Word], Node | None]] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if self.is_reserved(tok, "esac"):
                self.next()
                break
            if tok.kind == "op" and tok.value == "(":
                self.next()
            patterns: list[Word] = []
            while True:
                ptok = self.next()
                if ptok.kind != "word" or ptok.word is None:
                    raise self.unexpected(ptok, "esac")
                patterns.append(ptok.word)
                sep = self.next()
                if sep.kind == "op" and sep.value == "|":
                    continue
                if sep.kind == "op" and sep.value == ")":
                    break
                raise self.unexpected(sep, ")")
            self.skip_newlines()
            body: Node | None = None
            tok = self.peek()
            if not (tok.kind == "op" and tok.value == ";;") and not self.is_reserved(tok, "esac"):
                body = self.compound_list(expecting="esac")
            items.append((patterns, body))
            tok = self.next()
            if tok.kind == "op" and tok.value == ";;":
                continue
            if self.is_reserved(tok, "esac"):
                break
            raise self.unexpected(tok, "esac")
        return Case(word, items, self.redirects())


def _strip_prefix(word: Word, n: int) -> Word:
    """Drop the first ``n`` characters (``NAME=``) of an assignment word's literal head."""
    parts = list(word.parts)
    while n > 0 and parts:
        head = parts[0]
        if not isinstance(head, Lit):
            break
        if len(head.text) <= n:
            n -= len(head.text)
            parts.pop(0)
        else:
            parts[0] = Lit(head.text[n:], head.quoted)
            n = 0
    return Word(tuple(parts), word.raw)


class _LazyHeredoc:
    """A here-document body, filled in when the lexer reaches the lines after the command."""

    def __init__(self, holder: list[Word]) -> None:
        self._holder = holder

    @property
    def parts(self) -> tuple[Part, ...]:
        return self._holder[0].parts if self._holder else ()

    @property
    def raw(self) -> str:
        return self._holder[0].raw if self._holder else ""

    def literal(self) -> str | None:
        return None


def _parse(source: str, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ShellSyntaxError("syntax error: nesting too deep")
    lexer = _Lexer(source, depth)
    toks = lexer.tokens()
    if lexer.heredocs:
        lexer._read_heredocs()
    return _Parser(toks, depth).program()


#: scripts up to this long are parsed once and their trees shared (:func:`parse`)
CACHED_SOURCE = 8192


def parse(source: str) -> Node:
    """Parse a whole script (``sh -c`` string or script file).

    The same text gives the same tree, shared: an exec probe runs its ``sh -c`` every period
    and a restarting container its command every start, so short scripts are parsed once.
    Trees are never changed after parsing (the nodes are frozen; the interpreter only reads
    them)."""
    if len(source) <= CACHED_SOURCE:
        return _parse_cached(source)
    return _parse_whole(source)


@functools.lru_cache(maxsize=1024)
def _parse_cached(source: str) -> Node:
    return _parse_whole(source)


def _parse_whole(source: str) -> Node:
    if len(source) > MAX_SOURCE:
        raise ShellSyntaxError("syntax error: script too long")
    try:
        return _parse(source, 0)
    except RecursionError as exc:
        raise ShellSyntaxError("syntax error: nesting too deep") from exc
