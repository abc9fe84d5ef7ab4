"""What PodLab knows of a string too big to build: a *rope* of repeated units.

A shell string past ``MAX_MATERIALISED`` is hollow (``interp.Hollow``): it keeps its first
characters and its size. Most such strings come from repetition — ``x=$x$x`` doubles a seed,
``printf``/``yes`` output, a loop appending the same line — so the hollow string also keeps its
whole content as a rope: a short tuple of ``(unit, count)`` segments, the content being each
unit repeated ``count`` times, in order. From it the shell computes what a real shell computes
from the bytes — length, lines, words, equality, a glob's prefix and suffix, a slice — without
building the string. A rope past ``MAX_SEGMENTS`` segments is cut into nests (``Nest``: a
rope used as one unit), and a long rope joined to itself is one nest repeated, so a rope is
never dropped for its size (``None`` is only a string whose content PodLab never had).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Segment = tuple["str | Nest", int]
Rope = tuple[Segment, ...]

#: a rope with more segments than this is cut into nests of ``NEST`` segments
MAX_SEGMENTS = 4096
#: smallest periods looked for in a unit (after halving): "x", "ab\n", "hello\n"...
MAX_SMALL_PERIOD = 64
#: units are only reduced to their period from this size on (smaller ones stay as they are)
REDUCE_FROM = 4096


#: neighbouring segments this small are joined into one unit and reduced again
SMALL = 4096


def _small_period(text: str) -> Rope | None:
    """``text`` as its smallest period up to ``MAX_SMALL_PERIOD`` repeated (and the start of
    one more), without copying it: ``count`` of non-overlapping units that cover the text
    means they tile it; a few spot checks first keep a text with no period cheap."""
    n = len(text)
    for k in range(1, min(MAX_SMALL_PERIOD, n // 2) + 1):
        unit = text[:k]
        whole = n - n % k
        if not (text.startswith(unit, k) and text.startswith(unit, whole - k)):
            continue
        if not text.startswith(unit, (whole // k // 2) * k):
            continue
        if text.count(unit, 0, whole) * k == whole and text.startswith(unit[: n - whole], whole):
            rest = unit[: n - whole]
            return ((unit, whole // k),) + (((rest, 1),) if rest else ())
    return None


def reduce(text: str) -> Rope:
    """``text`` as segments: its smallest short period repeated, else halved while its two
    halves are equal (then the half's short period)."""
    if len(text) < 2:
        return ((text, 1),) if text else ()
    found = _small_period(text)
    if found is not None or len(text) < REDUCE_FROM:
        return found if found is not None else ((text, 1),)
    count = 1
    while len(text) % 2 == 0:
        half = len(text) // 2
        if not text.startswith(text[:half], half):
            break
        text = text[:half]
        count *= 2
    if count > 1:
        found = _small_period(text)
        if found is not None and len(found) == 1:
            unit, times = found[0]
            return ((unit, times * count),)
    return ((text, count),)


def of_text(text: str) -> Rope:
    if not text:
        return ()
    return reduce(text)


class Nest:
    """A rope used as one unit of another: what keeps a rope within ``MAX_SEGMENTS`` when
    its content is not one short list of repeated strings (``x=$x$x`` of a string of many
    segments is one nest twice, then four times...; a long list of segments is cut into
    nests of ``NEST`` segments). It answers what a unit is asked: its length, a
    character's count and presence, its words, a part of it."""

    __slots__ = ("_counts", "_hash", "_words", "rope", "size")

    def __init__(self, rope: Rope) -> None:
        self.rope = rope
        self.size = length(rope)
        self._hash: int | None = None
        self._counts: dict[str, int] = {}
        self._words: tuple[int, bool, bool] | None = None

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Nest) and other.size == self.size and other.rope == self.rope
        )

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.rope)
        return self._hash

    def count(self, needle: str) -> int:
        found = self._counts.get(needle)
        if found is None:
            found = self._counts[needle] = count(self.rope, needle)
        return found

    def __contains__(self, needle: object) -> bool:
        return isinstance(needle, str) and self.count(needle) > 0

    def word_stats(self) -> tuple[int, bool, bool]:
        if self._words is None:
            first, last = first_char(self.rope), last_char(self.rope)
            self._words = (words(self.rope), not first.isspace(), not last.isspace())
        return self._words


Unit = str | Nest
#: segments per nest when a long rope is cut into nests
NEST = 64


def _push(out: list[Segment], unit: Unit, count: int) -> None:
    """Append a segment: merged with the last one when it has the same unit, or joined with
    it and reduced again when both are small strings."""
    if out and out[-1][0] == unit:
        out[-1] = (unit, out[-1][1] + count)
        return
    if (
        out
        and type(unit) is str
        and type(out[-1][0]) is str
        and len(unit) * count <= SMALL
        and len(out[-1][0]) * out[-1][1] <= SMALL
    ):
        last_unit, last_count = out.pop()
        for u, c in reduce(last_unit * last_count + unit * count):
            if out and out[-1][0] == u:
                out[-1] = (u, out[-1][1] + c)
            else:
                out.append((u, c))
        return
    out.append((unit, count))


def _nested(out: list[Segment]) -> list[Segment]:
    """A list of segments past ``MAX_SEGMENTS`` cut into nests of ``NEST`` segments (equal
    neighbours merged)."""
    merged: list[Segment] = []
    for i in range(0, len(out), NEST):
        block = tuple(out[i : i + NEST])
        unit: Unit = block[0][0] if len(block) == 1 and block[0][1] == 1 else Nest(block)
        _push(merged, unit, 1)
    return merged


def concat(ropes: list[Rope | None]) -> Rope | None:
    """The ropes one after the other; adjacent segments of the same unit merge. A rope
    of many segments followed by itself is one nest repeated; past ``MAX_SEGMENTS`` the
    segments are cut into nests. None only when a rope is None (its content unknown)."""
    out: list[Segment] = []
    i = 0
    while i < len(ropes):
        rope = ropes[i]
        if rope is None:
            return None
        times = 1
        while len(rope) > NEST and i + times < len(ropes) and ropes[i + times] is rope:
            times += 1
        if times > 1:  # x=$x$x of a long rope: that rope, twice
            _push(out, Nest(rope), times)
        else:
            for unit, count in rope:
                if not len(unit) or count <= 0:
                    continue
                _push(out, unit, count)
                if len(out) > MAX_SEGMENTS:
                    out = _nested(out)
        i += times
        if len(out) > MAX_SEGMENTS:
            out = _nested(out)
    return tuple(out)


def length(rope: Rope) -> int:
    return sum(len(u) * c for u, c in rope)


def weight(rope: Rope) -> int:
    """Characters the rope itself holds (each unit once)."""
    seen: dict[int, Unit] = {}

    def walk(r: Rope) -> None:
        for u, _n in r:
            if id(u) not in seen:
                seen[id(u)] = u
                if type(u) is Nest:
                    walk(u.rope)

    walk(rope)
    return sum(len(u) for u in seen.values() if type(u) is str)


def count(rope: Rope, needle: str) -> int:
    """Occurrences of one character."""
    return sum(u.count(needle) * c for u, c in rope)


def first_char(rope: Rope) -> str:
    for unit, _n in rope:
        if len(unit):
            return unit[0] if type(unit) is str else first_char(unit.rope)  # type: ignore[union-attr]
    return ""


def last_char(rope: Rope) -> str:
    for unit, _n in reversed(rope):
        if len(unit):
            return unit[-1] if type(unit) is str else last_char(unit.rope)  # type: ignore[union-attr]
    return ""


_WORD_CHARS = re.compile(r"\S+")


def _word_stats(text: Unit) -> tuple[int, bool, bool]:
    """(words, starts inside a word, ends inside a word)."""
    if type(text) is Nest:
        return text.word_stats()
    words = sum(1 for _ in _WORD_CHARS.finditer(text))  # type: ignore[arg-type]
    return words, bool(text) and not text[0].isspace(), bool(text) and not text[-1].isspace()  # type: ignore[index]


def words(rope: Rope) -> int:
    """``wc -w``: words of the whole content, a word that spans two repetitions once."""
    total = 0
    ends_in_word = False
    seen: dict[int, tuple[int, bool, bool]] = {}
    for unit, times in rope:
        stats = seen.get(id(unit))
        if stats is None:
            stats = seen[id(unit)] = _word_stats(unit)
        w, starts, ends = stats
        if w == 0:
            ends_in_word = False
            continue
        joined = 1 if starts and ends else 0  # a repetition's last word runs into the next
        total += w * times - joined * (times - 1)
        if ends_in_word and starts:
            total -= 1
        ends_in_word = ends
    return total


def _part(unit: Unit, a: int, b: int) -> Rope:
    """Characters ``a`` to ``b`` of one unit."""
    if type(unit) is str:
        return ((unit[a:b], 1),) if a < b else ()
    return sub(unit.rope, a, b)  # type: ignore[union-attr]


def sub(rope: Rope, start: int, end: int) -> Rope:
    """The rope of characters ``start`` to ``end``."""
    out: list[Segment] = []
    pos = 0
    for unit, times in rope:
        size = len(unit) * times
        lo, hi = max(start, pos), min(end, pos + size)
        if lo < hi:
            a, b = lo - pos, hi - pos
            n = len(unit)
            first, last = a // n, (b - 1) // n
            if first == last:
                out.extend(_part(unit, a - first * n, b - first * n))
            else:
                out.extend(_part(unit, a - first * n, n))
                if last - first - 1 > 0:
                    out.append((unit, last - first - 1))
                out.extend(_part(unit, 0, b - last * n))
        pos += size
        if pos >= end:
            break
    merged = concat([tuple(out)])
    return merged if merged is not None else tuple(out)


def chunks(rope: Rope, size: int = 1 << 20) -> Iterator[str]:
    """The content in pieces of about ``size`` characters."""
    buffer: list[str] = []
    held = 0
    for unit, times in rope:
        if type(unit) is Nest:
            for _ in range(times):
                for piece in chunks(unit.rope, size):
                    buffer.append(piece)
                    held += len(piece)
                    if held >= size:
                        yield "".join(buffer)
                        buffer, held = [], 0
            continue
        per = max(1, size // max(1, len(unit)))
        left = times
        while left > 0:
            n = min(left, per)
            buffer.append(unit * n)  # type: ignore[operator]
            held += len(unit) * n
            left -= n
            if held >= size:
                yield "".join(buffer)
                buffer, held = [], 0
    if buffer:
        yield "".join(buffer)


def text(rope: Rope) -> str:
    return "".join(chunks(rope))


def equal(a: Rope, b: Rope) -> bool:
    """Whether two ropes hold the same content (equal segments, else piece by piece)."""
    if length(a) != length(b):
        return False
    if a == b:
        return True
    left, right = chunks(a), chunks(b)
    pending_a = pending_b = ""
    while True:
        if not pending_a:
            pending_a = next(left, "")
        if not pending_b:
            pending_b = next(right, "")
        if not pending_a or not pending_b:
            return not pending_a and not pending_b
        n = min(len(pending_a), len(pending_b))
        if pending_a[:n] != pending_b[:n]:
            return False
        pending_a, pending_b = pending_a[n:], pending_b[n:]


def _find_in(unit: Unit, needle: str, start: int) -> int:
    if type(unit) is str:
        return unit.find(needle, start)
    return find(unit.rope, needle, start)  # type: ignore[union-attr]


def find(rope: Rope, needle: str, start: int = 0) -> int:
    """Index of the first ``needle`` (one character) at or after ``start``, or -1."""
    pos = 0
    for unit, times in rope:
        size = len(unit) * times
        if pos + size > start and needle in unit:
            offset = max(0, start - pos)
            n = len(unit)
            rep, inner = divmod(offset, n)
            hit = _find_in(unit, needle, inner)
            if hit >= 0:
                return pos + rep * n + hit
            if rep + 1 < times:
                return pos + (rep + 1) * n + _find_in(unit, needle, 0)
        pos += size
    return -1


def rstrip(rope: Rope, chars: str) -> Rope:
    """The rope without the characters of ``chars`` at its end."""
    out = list(rope)
    while out:
        unit, times = out[-1]
        if type(unit) is Nest:
            out[-1:] = [*(((unit, times - 1),) if times > 1 else ()), *unit.rope]
            continue
        stripped = unit.rstrip(chars)  # type: ignore[union-attr]
        if not stripped:
            out.pop()
            continue
        if stripped != unit:
            out[-1:] = [*(((unit, times - 1),) if times > 1 else ()), (stripped, 1)]
        break
    merged = concat([tuple(out)])
    return merged if merged is not None else tuple(out)


__all__ = [
    "MAX_SEGMENTS",
    "Nest",
    "Rope",
    "Segment",
    "chunks",
    "concat",
    "count",
    "equal",
    "find",
    "first_char",
    "last_char",
    "rstrip",
    "length",
    "weight",
    "of_text",
    "reduce",
    "sub",
    "text",
    "words",
]


# --- fixed-width matches (the parts of a glob between its ``*``s) ------------------------


def _cyclic(unit: Unit, offset: int, size: int) -> str:
    """``size`` characters of ``unit`` repeated, from ``offset`` in it."""
    offset %= len(unit)
    if type(unit) is Nest:
        n = len(unit)
        reps = (offset + size) // n + 1
        return text(sub(((unit, reps),), offset, offset + size))
    need = offset + size
    return (unit * (need // len(unit) + 1))[offset:need]  # type: ignore[operator]


def _starts(rope: Rope) -> list[int]:
    out = []
    pos = 0
    for unit, times in rope:
        out.append(pos)
        pos += len(unit) * times
    return out


def _around(rope: Rope, starts: list[int], i: int, width: int) -> tuple[int, str]:
    """(where it starts, the text) of the last ``width - 1`` characters of segment ``i``
    and the ``width - 1`` characters after it: every match of ``width`` characters that
    starts in the segment and ends past it."""
    unit, times = rope[i]
    end = starts[i] + len(unit) * times
    lo = max(starts[i], end - width + 1)
    return lo, text(sub_from(rope, starts, i, lo, end + width - 1))


def sub_from(rope: Rope, starts: list[int], i: int, lo: int, hi: int) -> Rope:
    """``sub`` from segment ``i`` on (``starts``: where each segment starts)."""
    out: list[Segment] = []
    j = i
    while j < len(rope) and starts[j] < hi:
        unit, times = rope[j]
        a, b = max(lo, starts[j]), min(hi, starts[j] + len(unit) * times)
        if a < b:
            out.append((_cyclic(unit, a - starts[j], b - a), 1))
        j += 1
    return tuple(out)


def first_match(rope: Rope, look: re.Pattern[str], width: int, start: int, stop: int) -> int:
    """The first ``q`` from ``start`` on where the content's ``width`` characters match
    ``look`` (a lookahead of a fixed-width pattern) and end by ``stop``; -1 if none. A
    segment repeating its unit is looked at over one period of its unit (its matches repeat
    with the unit)."""
    if width == 0:
        return start if start <= stop else -1
    starts = _starts(rope)
    for i, (unit, times) in enumerate(rope):
        a = starts[i]
        b = a + len(unit) * times
        if b <= start:
            continue
        if a >= stop:
            break
        lo = max(a, start)
        n = len(unit)
        inner_end = min(b, stop)  # matches inside the segment end by here
        if inner_end - lo >= width and type(unit) is Nest:
            # the nest's rope over enough repetitions to hold one period after ``lo``
            base = a + (lo - a) // n * n
            copies = 3 + width // n
            found = first_match(
                unit.rope * copies, look, width, lo - base, min(inner_end, base + copies * n) - base
            )
            if found >= 0:
                return base + found
        elif inner_end - lo >= width:
            window = _cyclic(unit, lo - a, min(inner_end - lo, n + width - 1))
            m = look.search(window)
            if m is not None:
                return lo + m.start()
        if b < stop:  # matches that start in the segment and end after it
            w_lo, around = _around(rope, starts, i, width)
            w_from = max(w_lo, start)
            m = look.search(around, w_from - w_lo, min(len(around), stop - w_lo))
            if m is not None and w_lo + m.start() < b:
                return w_lo + m.start()
    return -1


def _last(look: re.Pattern[str], window: str, end: int) -> int:
    found = -1
    for m in look.finditer(window, 0, end):
        found = m.start()
    return found


def last_match(rope: Rope, look: re.Pattern[str], width: int, start: int, stop: int) -> int:
    """The last ``q`` from ``start`` on where ``width`` characters match ``look`` and end
    by ``stop``; -1 if none (see ``first_match``)."""
    if width == 0:
        return stop if start <= stop else -1
    starts = _starts(rope)
    for i in range(len(rope) - 1, -1, -1):
        unit, times = rope[i]
        a = starts[i]
        b = a + len(unit) * times
        if a >= stop:
            continue
        if b <= start:
            break
        if b < stop:  # starting in the segment, ending after it
            w_lo, around = _around(rope, starts, i, width)
            w_from = max(w_lo, start)
            hit = _last(look, around, min(len(around), stop - w_lo))
            if hit >= 0 and w_lo + hit < b and w_lo + hit >= w_from:
                return w_lo + hit
        n = len(unit)
        hi = min(b, stop)  # the last match inside ends by here
        lo = max(a, start)
        if hi - lo < width:
            continue
        if type(unit) is Nest:
            copies = 3 + width // n
            base = a + max(0, (hi - a) // n - copies + 1) * n
            found = last_match(unit.rope * copies, look, width, max(0, lo - base), hi - base)
            if found >= 0:
                return base + found
            continue
        size = min(hi - lo, n + width - 1)
        window = _cyclic(unit, hi - size - a, size)
        hit = _last(look, window, size)
        if hit >= 0:
            return hi - size + hit
    return -1
