"""Column alignment as Go's ``text/tabwriter`` does it, with the settings kubectl uses.

Text is a sequence of lines; a ``\\t`` terminates a cell. The trailing text of a line (after
its last tab) is not part of any column. A *column block* is a run of consecutive lines that
all have a terminated cell in that column; its width is the widest cell plus the padding (and
never less than the minimum width). Cells are left-aligned and padded with spaces.

``get`` tables use minwidth 6, tabwidth 4, padding 3 (``printers.GetNewTabWriter``);
``describe`` uses minwidth 0, tabwidth 8, padding 2 (``tabbedString``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

GET_MINWIDTH = 6
GET_PADDING = 3
DESCRIBE_MINWIDTH = 0
DESCRIBE_PADDING = 2


def _split(text: str) -> list[list[str]]:
    lines = text.split("\n")
    return [line.split("\t") for line in lines]


def align(*, text: str, minwidth: int, padding: int, remembered: list[int] | None = None) -> str:
    """Align ``text`` (lines of tab-terminated cells) into columns.

    ``remembered`` carries column widths from earlier output (the RememberWidths behaviour of
    kubectl's watch printer): columns never shrink below them, and the list is updated.
    """
    aligner = _Aligner(_split(text), minwidth, padding, remembered)
    aligner.format(0, len(aligner.rows))
    return "\n".join(aligner.out)


class _Aligner:
    """The state of one ``align`` call. (Methods rather than nested recursive functions: a
    closure that calls itself is a reference cycle, left to the cyclic garbage collector
    every time a table is printed.)"""

    __slots__ = ("minwidth", "out", "padding", "remembered", "rows", "widths")

    def __init__(self, rows: list[list[str]], minwidth: int, padding: int,
                 remembered: list[int] | None) -> None:
        self.rows = rows
        self.minwidth = minwidth
        self.padding = padding
        self.remembered = remembered
        self.out: list[str] = []
        self.widths: list[int] = []

    def write_rows(self, start: int, stop: int) -> None:
        widths = self.widths
        for i in range(start, stop):
            cells = self.rows[i]
            parts: list[str] = []
            for j, cell in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(cell + " " * (widths[j] - len(cell)))
                else:
                    parts.append(cell)
            self.out.append("".join(parts))

    def format(self, line0: int, line1: int) -> None:
        rows, widths, remembered = self.rows, self.widths, self.remembered
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(rows[this]) - 1:
                this += 1
                continue
            self.write_rows(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(rows[this]) - 1:
                width = max(width, len(rows[this][column]) + self.padding)
                this += 1
            if remembered is not None:
                if column < len(remembered):
                    width = max(width, remembered[column])
                    remembered[column] = width
                else:
                    remembered.append(width)
            widths.append(width)
            self.format(line0, this)
            widths.pop()
            line0 = this
        self.write_rows(line0, line1)


@dataclass
class WatchTable:
    """Rows printed one at a time under one header, columns widening as kubectl's watch does."""

    minwidth: int = GET_MINWIDTH
    padding: int = GET_PADDING
    remembered: list[int] = field(default_factory=list)

    def line(self, *, cells: list[str]) -> str:
        return align(
            text="\t".join(cells), minwidth=self.minwidth, padding=self.padding,
            remembered=self.remembered,
        )


def table(*, header: list[str], rows: list[list[str]]) -> str:
    """A kubectl ``get`` table: header and rows, every line ending in a newline."""
    lines = ["\t".join(header)] + ["\t".join(r) for r in rows]
    return align(text="\n".join(lines), minwidth=GET_MINWIDTH, padding=GET_PADDING) + "\n"
