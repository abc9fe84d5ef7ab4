# ruff: noqa: E501  (scripts in the tests keep one command line per line, as written)
"""Strings bigger than PodLab builds (``MAX_MATERIALISED``): a hollow string keeps its whole
content as a rope of repeated units, so what a script asks of it — its length, its lines and
words through a pipe, writing it to a file or the log, comparing it, matching it in ``case`` —
gives the answer busybox would give, without building the string. What needs the whole
content is bounded by the container's memory first (the OOM killer)."""

from __future__ import annotations

import pytest

from podlab.engine.runtime.runtime import CRI_RECORD_OVERHEAD
from podlab.engine.runtime.shell import interp
from podlab.engine.runtime.shell import rope as rp
from tests.engine.test_conformance_storage import container, manifest, start, status

DOUBLE = 'x={seed}; i=0; while [ $i -lt {n} ]; do x=$x$x; i=$((i+1)); done; '


def run(script: str, limits: str = "memory: 2Gi", until: float = 60):
    sim = start(manifest("p", container("c", script, limits=limits)), until)
    return sim, sim.logs("p")


def test_a_doubled_string_keeps_its_length_lines_and_words_through_a_pipe() -> None:
    script = DOUBLE.format(seed="y", n=27) + 'echo ${#x}; echo "$x" | wc -c; echo "$x" | wc -l; echo "$x" | wc -w; echo "$x" | wc'
    _sim, logs = run(script)
    size = 2**27
    assert logs.splitlines() == [str(size), str(size + 1), "1", "1", f"{1:>9} {1:>9} {size + 1:>9}"]


def test_words_and_lines_of_a_repeated_phrase_are_counted_across_repetitions() -> None:
    # "a b" doubled with a newline between: 2^24 lines of "a b" (64 MiB: hollow)
    script = 'x="a b"; i=0; while [ $i -lt 24 ]; do x="$x\n$x"; i=$((i+1)); done; echo "$x" | wc -l; echo "$x" | wc -w; echo "$x" | wc -c'
    _sim, logs = run(script)
    lines = 2**24
    assert logs.splitlines() == [str(lines), str(2 * lines), str(4 * lines)]


def test_comparisons_and_case_see_the_whole_string() -> None:
    script = DOUBLE.format(seed="ab", n=25) + (
        'y=$x; [ "$x" = "$y" ] && echo same; z=${x}c; [ "$x" != "$z" ] && echo differ; '
        'w=${x}; w=${w}b; [ "$w" = "$x" ] || echo longer; '
        'case "$x" in *c) echo wrong;; ab*ab) echo both-ends;; esac; '
        'case "$z" in *ab) echo wrong;; *bc) echo tail;; esac; '
        'case "$z" in ab) echo wrong;; abab*) echo head;; esac'
    )
    _sim, logs = run(script)
    assert logs.splitlines() == ["same", "differ", "longer", "both-ends", "tail", "head"]


def test_a_big_string_written_to_a_file_counts_its_size_and_can_evict() -> None:
    script = DOUBLE.format(seed="y", n=26) + 'echo "$x" > /tmp/f; ls -l /tmp/f; sleep 3600'
    sim, logs = run(script, limits="memory: 2Gi, ephemeral-storage: 50Mi", until=30)
    assert logs.split()[4] == str(2**26 + 1)
    st = status(sim, "p")
    assert (st["reason"], st["message"]) == ("Evicted", "Pod ephemeral local storage usage exceeds the total limit of containers 50Mi. ")


def test_a_big_string_written_to_the_log_counts_its_size_and_rotates_the_log() -> None:
    script = DOUBLE.format(seed="y", n=25) + 'echo "$x"; sleep 11; echo after; sleep 3600'
    sim, _logs = run(script, until=30)
    worker = sim._find("p", "default")  # noqa: SLF001 - the runtime's own view
    inst = worker.app_slots[0].current
    assert inst is not None
    # the 32 MiB line went to 0.log as 2048 CRI records of 16 KiB (each with its time, stream
    # and tag); at the next look (10 s) the file was past 10Mi: rotated
    assert [size for _t, size in inst.rotated_logs] == [2**25 + 1 + 2048 * CRI_RECORD_OVERHEAD]
    assert (inst.log_bytes, inst.log_disk_bytes) == (len("after\n"), len("after\n") + CRI_RECORD_OVERHEAD)
    assert worker.container_storage(worker.app_slots[0]) >= 2**25


def test_what_needs_the_whole_string_is_bounded_by_the_containers_memory() -> None:
    # a glob with a middle part must look at all of it: the container's memory decides
    script = DOUBLE.format(seed="y", n=26) + 'case "$x" in *z*) echo no;; *y*) echo found;; esac'
    _sim, logs = run(script, limits="memory: 1Gi")
    assert logs == "found\n"
    sim, logs = run(script, limits="memory: 100Mi")
    assert logs == ""
    state = sim.pod("p")["status"]["containerStatuses"][0]["state"]["terminated"]  # type: ignore[index]
    assert (state["exitCode"], state["reason"]) == (137, "OOMKilled")


# --- the rope itself ----------------------------------------------------------------


def test_a_rope_reduces_repetition_and_merges_neighbours() -> None:
    assert rp.of_text("y" * 8192) == (("y", 8192),)
    assert rp.of_text("hello world " * 1000 + "hello world") == (("hello world ", 1000), ("hello world", 1))
    doubled = rp.concat([rp.of_text("ab" * 4096), rp.of_text("ab" * 4096)])
    assert doubled == (("ab", 8192),)
    assert rp.concat([(("a", 1),), None]) is None


@pytest.mark.parametrize("text", ["", "x", "a b\n" * 5, "  lead and trail  ", "w" * 70 + " z " * 3, "no-space-at-all"])
def test_rope_answers_match_the_built_string(text: str) -> None:
    rope = rp.concat([rp.of_text(text), rp.of_text(text), rp.of_text("tail\n")])
    assert rope is not None
    whole = text + text + "tail\n"
    assert rp.text(rope) == whole and rp.length(rope) == len(whole)
    assert rp.count(rope, "\n") == whole.count("\n")
    assert rp.words(rope) == len(whole.split())
    for lo, hi in ((0, 3), (2, len(whole) - 1), (len(whole) // 2, len(whole))):
        assert rp.text(rp.sub(rope, lo, hi)) == whole[lo:hi]
    assert rp.find(rope, "\n", 1) == whole.find("\n", 1)


def test_hollow_strings_compare_by_content() -> None:
    half = "xy" * (interp.MAX_MATERIALISED // 4 + 1)
    a = interp._joined([half, half], 2 * len(half))  # noqa: SLF001 - the helper itself
    b = interp._joined([half + half[:2], half[2:]], 2 * len(half))  # noqa: SLF001
    c = interp._joined([half, half[:-1] + "z"], 2 * len(half))  # noqa: SLF001
    assert type(a) is interp.Hollow and a.rope == (("xy", len(half)),)
    assert a == b and a != c and a != str(a)


def test_printf_s_and_command_substitution_keep_the_whole_string() -> None:
    script = DOUBLE.format(seed="ab", n=25) + (
        'printf "%s\\n" "$x" | wc -c; y=$(printf "%s\\n\\n" "$x"); echo ${#y}; '
        '[ "$y" = "$x" ] && echo same; printf "%s-%s" "$x" end | wc -c'
    )
    _sim, logs = run(script)
    size = 2 * 2**25
    assert logs.splitlines() == [str(size + 1), str(size), "same", str(size + 4)]


def test_trimming_the_ends_of_a_big_string_keeps_the_rest() -> None:
    script = DOUBLE.format(seed="ab", n=25) + (
        'y=${x#a}; echo ${#y}; case "$y" in ba*) echo starts-ba;; esac; '
        'z=${x%b}; echo ${#z}; case "$z" in *ba) echo ends-ba;; esac; '
        'w=${x%?b}; echo ${#w}'
    )
    _sim, logs = run(script)
    size = 2 * 2**25
    assert logs.splitlines() == [str(size - 1), "starts-ba", str(size - 1), "ends-ba", str(size - 2)]


def test_an_unquoted_big_string_without_separators_is_one_field() -> None:
    script = DOUBLE.format(seed="y", n=26) + "echo $x | wc -c; set -- $x; echo $#"
    _sim, logs = run(script)
    assert logs.splitlines() == [str(2**26 + 1), "1"]


def test_longest_prefix_and_suffix_removal_see_the_whole_string() -> None:
    # "abc" doubled: 3 * 2^25 characters (96 MiB); the answers lie past the kept MiB
    script = DOUBLE.format(seed="abc", n=25) + (
        'y=${x##*b}; echo "${#y} $y"; y=${x%%b*}; echo "${#y} $y"; y=${x##a*c}; echo "${#y}"; '
        'y=${x%%ab}; echo ${#y}; y=${x##ab}; echo ${#y}; y=${x%%bc*bc}; echo "${#y} $y"; '
        'y=${x##*a?c}; echo "${#y}"; y=${x%%[!a]*}; echo "${#y} $y"; y=${x##*z}; echo ${#y}; '
        'y=${x#*cab}; echo ${#y}; y=${x%c*}; echo ${#y}; y=${x%%c*a*b?}; echo "${#y} $y"'
    )
    _sim, logs = run(script)
    size = 3 * 2**25
    assert logs.splitlines() == [
        "1 c", "1 a", "0", str(size), str(size - 2), "1 a",
        "0", "1 a", str(size), str(size - 5), str(size - 1), "2 ab",
    ]


def test_printf_width_precision_and_b_format_the_whole_string() -> None:
    script = DOUBLE.format(seed="ab", n=25) + (
        'printf "%70000000s|" "$x" | wc -c; printf "%-70000000s|" "$x" | wc -c; '
        'y=$(printf "%-70000000s|" "$x"); echo ${#y}; case "$y" in abab*"b "*"  |") echo padded-right;; esac; '
        'y=$(printf "%.40000000s" "$x"); echo ${#y}; case "$y" in *ab) echo cut-on-ab;; esac; '
        'printf "%.5000s" "$x" | wc -c; printf "%b" "$x" | wc -c; '
        'y="$x\\\\n"; z=$(printf "%b|" "$y$y"); echo ${#z}; case "$z" in *"b\n|") echo unescaped;; esac; '
        'y=$(printf "%40000000s" z); echo ${#y}; printf "%10s|%-4s|%.2s|\\n" ab cd efg'
    )
    _sim, logs = run(script)
    size = 2 * 2**25
    assert logs.splitlines() == [
        "70000001", "70000001", "70000001", "padded-right", "40000000", "cut-on-ab", "5000", str(size),
        str(2 * (size + 1) + 1), "unescaped", "40000000", "        ab|cd  |ef|",
    ]


def test_field_splitting_of_a_big_string_finds_every_separator() -> None:
    # two 64 MiB words with a space between, then the same with other IFS characters
    script = DOUBLE.format(seed="y", n=26) + (
        'w="$x z $x"; set -- $w; echo "$# ${#1} $2 ${#3}"; '
        'for f in $w; do echo ${#f}; done; '
        'n=0; for f in   $w"  tail"; do n=$((n+1)); done; echo $n; '
        'v="a:$x::b:"; IFS=:; set -- $v; echo "$# $1 ${#2} [$3] $4"; unset IFS; '
        'u=$(printf "%s\\n" "$x" "$x" "$x"); set -- $u; echo "$# ${#3}"; echo $u | wc -c'
    )
    _sim, logs = run(script, limits="memory: 4Gi")
    big = 2**26
    assert logs.splitlines() == [
        f"3 {big} z {big}", str(big), "1", str(big), "3", f"4 a {big} [] b", f"3 {big}", str(3 * (big + 1)),
    ]


def test_a_file_written_from_a_big_string_reads_back_whole() -> None:
    script = DOUBLE.format(seed="ab", n=25) + (
        'echo "$x" > /tmp/f; echo "$x" >> /tmp/f; wc -c /tmp/f; cat /tmp/f | wc -c; wc -l < /tmp/f; '
        'read y < /tmp/f; echo ${#y}; { read a; read b; } < /tmp/f; [ "$a" = "$x" ] && [ "$b" = "$x" ] && echo both-lines; '
        'z=$(cat /tmp/f); echo ${#z}; case "$z" in *"b\nab"*) echo two-lines;; esac; '
        'cp /tmp/f /tmp/g; cat /tmp/g | wc -c; '
        'printf "%40000000s\\n" x > /tmp/p; wc -c < /tmp/p; case "$(cat /tmp/p)" in "    "*" x") echo padded;; esac; '
        'echo more >> /tmp/f; cat /tmp/g | wc -c; wc -c < /tmp/f; z=$(cat /tmp/f); case "$z" in *"ab\nmore") echo appended;; esac'
    )
    _sim, logs = run(script, limits="memory: 4Gi")
    size = 2 * 2**25
    assert logs.splitlines() == [
        f"{2 * (size + 1)} /tmp/f", str(2 * (size + 1)), "2", str(size), "both-lines", str(2 * size + 1), "two-lines",
        str(2 * (size + 1)), "40000001", "padded", str(2 * (size + 1)), str(2 * (size + 1) + 5), "appended",
    ]


def test_a_big_string_of_many_different_pieces_keeps_them_all() -> None:
    # 3000 appends of a number and a 5000-character run: over 6000 pieces (past 4096)
    script = DOUBLE.format(seed="ab", n=25) + (
        'y=$(printf "%05000d" 0); i=0; while [ $i -lt 3000 ]; do x="$x $i $y"; i=$((i+1)); done; '
        'echo ${#x}; echo "$x" | wc -w; case "$x" in *" 2999 0"*0) echo last;; esac; '
        'z=${x##* 1500 }; echo ${#z}; z=${x%% 17 *}; echo ${#z}; echo "$x" > /tmp/f; wc -c < /tmp/f; '
        'set -- $x; echo "$# ${3000} ${#6001}"; w=$x$x; w=$w$w; echo "$w" | wc -w'
    )
    _sim, logs = run(script, limits="memory: 4Gi", until=120)
    big = 2 * 2**25
    appended = [len(f" {i} ") + 5000 for i in range(3000)]
    assert logs.splitlines() == [
        str(big + sum(appended)), "6001", "last", str(5000 + sum(appended[1501:])), str(big + sum(appended[:17])),
        str(big + sum(appended) + 1), "6001 1499 5000", str(4 * 6001 - 3),
    ]


def test_a_rope_past_its_segment_bound_nests_instead_of_dropping(monkeypatch: pytest.MonkeyPatch) -> None:
    import fnmatch
    import random

    from podlab.engine.runtime.shell.interp import rope_prefix, rope_suffix

    monkeypatch.setattr(rp, "MAX_SEGMENTS", 8)
    monkeypatch.setattr(rp, "NEST", 3)
    rng = random.Random(5)

    def some_rope(depth: int = 0) -> rp.Rope:
        segs: list[rp.Segment] = []
        for _ in range(rng.randint(1, 4)):
            if depth < 2 and rng.random() < 0.3:
                segs.append((rp.Nest(some_rope(depth + 1)), rng.randint(1, 3)))
            else:
                segs.append(("".join(rng.choice("ab \n") for _ in range(rng.randint(1, 3))), rng.randint(1, 4)))
        return tuple(segs)

    for _ in range(500):
        parts = [some_rope() for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            parts = [parts[0]] * rng.randint(2, 4)
        rope = rp.concat(list(parts))
        whole = "".join(rp.text(p) for p in parts)
        assert rope is not None and len(rope) <= rp.MAX_SEGMENTS
        assert rp.text(rope) == whole and rp.length(rope) == len(whole)
        assert (rp.count(rope, "\n"), rp.words(rope)) == (whole.count("\n"), len(whole.split()))
        lo = rng.randint(0, len(whole))
        hi = rng.randint(lo, len(whole))
        assert rp.text(rp.sub(rope, lo, hi)) == whole[lo:hi]
        assert rp.find(rope, "\n", lo) == whole.find("\n", lo)
        assert rp.text(rp.rstrip(rope, "\n")) == whole.rstrip("\n")
        pattern = "".join(rng.choice(["a", "b", " ", "?", "*", "*", "[ab]"]) for _ in range(rng.randint(0, 4)))
        longest = next((i for i in range(len(whole), -1, -1) if fnmatch.fnmatchcase(whole[:i], pattern)), None)
        shortest = next((i for i in range(len(whole) + 1) if fnmatch.fnmatchcase(whole[i:], pattern)), None)
        assert rope_prefix(rope, len(whole), pattern, True) == longest
        assert rope_suffix(rope, len(whole), pattern, True) == shortest
    # a long rope doubled again and again stays one nest, repeated
    many = tuple((f"piece {i} ", 1000) for i in range(20))
    rope = rp.concat([many])
    assert rope is not None
    for _ in range(40):
        rope = rp.concat([rope, rope])
        assert rope is not None and len(rope) <= 2
    assert rp.length(rope) == rp.length(many) * 2**40
