"""``classroom.logs``: the classroom's frames carry only the tails of long logs; the console,
students and the projector page back through the whole log, from the room's worker, in
pages no larger than the lab's and under the transport's frame limit."""

from __future__ import annotations

import re

import pytest

from podlab.classroom import sim
from podlab.classroom.consumers import room_error_text
from podlab.lab.runner import MAX_FRAME_BYTES, MAX_LOG_PAGE_CHARS
from tests.lab.manifests import DATE_LOGGERS

from .helpers import SLEEPER, receive_type
from .test_consumers import apply, student_socket, teacher_socket
from .test_projector_exports import projector_socket

pytestmark = pytest.mark.django_db(transaction=True)
CJK = re.compile(r"[\u4e00-\u9fff]")

# 100,000 numbered lines: 588,895 characters, more than a frame carries.
CHATTY = """\
apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  containers:
  - name: main
    image: busybox:1.36
    command:
    - sh
    - -c
    - seq 1 100000; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done
"""
NUMBERS = "".join(f"{n}\n" for n in range(1, 100_001))
KEY = "chatty/main"


async def chatty_room(room, t=20):
    teacher = await teacher_socket(room)
    await apply(teacher, CHATTY)
    await teacher.send_json_to({"type": "classroom.seek", "t": t})
    snapshot = await receive_type(teacher, "classroom.snapshot", timeout=30)
    assert snapshot["t"] == t
    return teacher, snapshot


async def page(ws, **fields):
    await ws.send_json_to({"type": "classroom.logs", "container": KEY, **fields})
    return await receive_type(ws, "classroom.logs", timeout=30)


async def whole_log(ws, total):
    """Every page from the first character on, joined."""
    text, offset = "", 0
    while offset < total:
        answer = await page(ws, offset=offset, limit=MAX_LOG_PAGE_CHARS)
        assert answer["offset"] == offset and answer["total"] == total
        assert 0 < len(answer["text"]) <= MAX_LOG_PAGE_CHARS
        text += answer["text"]
        offset += len(answer["text"])
    return text


async def test_the_console_pages_back_through_a_log_sent_as_its_tail(room):
    teacher, snapshot = await chatty_room(room)
    total = snapshot["logs_truncated"][f"logs:{KEY}"]
    tail = snapshot["views"]["logs"][KEY]
    assert len(tail) < total
    # The last page by default, at most the lab's page size, with the room's seq.
    last = await page(teacher)
    assert last["total"] == total and last["seq"] == snapshot["seq"]
    assert len(last["text"]) == MAX_LOG_PAGE_CHARS and last["offset"] == total - MAX_LOG_PAGE_CHARS
    assert last["text"].endswith(tail) and last["previous"] is False
    # Asking for more than a page gets a page.
    assert len((await page(teacher, offset=0, limit=10 * MAX_LOG_PAGE_CHARS))["text"]) \
        == MAX_LOG_PAGE_CHARS
    # The whole log, page by page, is the container's output, first line to last.
    whole = await whole_log(teacher, total)
    assert whole.startswith(NUMBERS) and whole.endswith(tail)
    assert (await page(teacher, offset=100, limit=7))["text"] == whole[100:107]
    await teacher.disconnect()


async def test_students_and_the_projector_page_the_moment_the_room_is_at(room):
    teacher, snapshot = await chatty_room(room)
    total = snapshot["logs_truncated"][f"logs:{KEY}"]
    ann = await student_socket(room, "ann")
    li = await student_socket(room, "li", lang="zh-hans")
    screen = await projector_socket(room, "zh-hans")
    assert ann.snapshot["logs_truncated"][f"logs:{KEY}"] == total
    mine = await page(teacher, offset=1000, limit=5000)
    for ws in (ann, li, screen):
        answer = await page(ws, offset=1000, limit=5000)
        assert answer == mine
    assert (await whole_log(li, total)).startswith(NUMBERS)
    # The room goes on: the log grows, and students page the new moment.
    await teacher.send_json_to({"type": "classroom.seek", "t": 40})
    later = await receive_type(teacher, "classroom.snapshot", timeout=30)
    await receive_type(ann, "classroom.snapshot", where=lambda m: m["seq"] == later["seq"])
    grown = await page(ann)
    assert grown["total"] > total and grown["seq"] == later["seq"]
    assert grown["text"].endswith(later["views"]["logs"][KEY])
    for ws in (teacher, ann, li, screen):
        await ws.disconnect()


async def test_students_page_the_logs_of_ten_loggers_an_hour_in(room):
    """The process's copy of the room is rebuilt for a page as for a snapshot: in slices
    (an hour of ten loggers, replayed from t = 0 in one request, outgrew its budget)."""
    teacher = await teacher_socket(room)
    ann = await student_socket(room, "ann")
    screen = await projector_socket(room, "zh-hans")
    await apply(teacher, DATE_LOGGERS)
    await teacher.send_json_to({"type": "classroom.seek", "t": 3600})
    snapshot = await receive_type(teacher, "classroom.snapshot", timeout=60)
    assert snapshot["t"] == 3600
    await receive_type(ann, "classroom.snapshot", timeout=30,
                       where=lambda m: m["seq"] == snapshot["seq"])
    sim.forget(room_pk=room.pk)  # this process keeps no copy of the room: rebuilt for a page
    key = "chatty/c7"
    total = snapshot["logs_truncated"][f"logs:{key}"]
    await ann.send_json_to({"type": "classroom.logs", "container": key})
    answer = await receive_type(ann, "classroom.logs", timeout=60)
    assert answer["seq"] == snapshot["seq"] and answer["total"] == total
    assert answer["text"].endswith(snapshot["views"]["logs"][key])
    assert answer["offset"] == 0 and len(answer["text"]) == total  # the whole hour, one page
    assert answer["text"].count("\n") > 3500  # a date a second (less the start)
    await teacher.send_json_to({"type": "classroom.logs", "container": key})
    assert await receive_type(teacher, "classroom.logs", timeout=30) == answer
    sim.forget(room_pk=room.pk)
    await screen.send_json_to({"type": "classroom.logs", "container": key, "offset": 0,
                               "limit": 29})
    first = await receive_type(screen, "classroom.logs", timeout=60)
    assert first["text"] == "Wed Jan  1 00:00:00 UTC 2025\n", first
    for ws in (teacher, ann, screen):
        await ws.disconnect()


async def test_log_requests_are_checked_in_the_sockets_language(room):
    teacher = await teacher_socket(room)
    li = await student_socket(room, "li", lang="zh-hans")
    # Before the first apply there is no log to page.
    for ws, lang in ((teacher, "en"), (li, "zh-hans")):
        await ws.send_json_to({"type": "classroom.logs", "container": KEY})
        error = await receive_type(ws, "classroom.error")
        assert error["code"] == "no_simulation"
        assert error["message"] == room_error_text("no_simulation", lang)
    assert CJK.search(room_error_text("no_simulation", "zh-hans"))
    await apply(teacher, SLEEPER)
    await teacher.send_json_to({"type": "classroom.seek", "t": 10})
    seq = (await receive_type(teacher, "classroom.snapshot"))["seq"]
    await receive_type(li, "classroom.snapshot", where=lambda m: m["seq"] == seq)
    for ws, lang in ((teacher, "en"), (li, "zh-hans")):
        for bad, field in (({}, "container"), ({"container": 7}, "container"),
                           ({"container": KEY, "previous": "yes"}, "previous"),
                           ({"container": KEY, "offset": True}, "offset"),
                           ({"container": KEY, "limit": 2.5}, "limit"),
                           ({"container": "nobody/main"}, "container")):
            await ws.send_json_to({"type": "classroom.logs", **bad})
            error = await receive_type(ws, "classroom.error")
            assert error["code"] == "bad_field" and error["detail"]["field"] == field, bad
            assert error["message"] == room_error_text("bad_field", lang)
        # A short log is one page; the previous log of a container that never restarted is
        # kubectl's refusal, as in the pane.
        await ws.send_json_to({"type": "classroom.logs", "container": "sleeper/main"})
        answer = await receive_type(ws, "classroom.logs")
        assert answer["text"] == "hello\n" and answer["offset"] == 0 and answer["total"] == 6
        await ws.send_json_to({"type": "classroom.logs", "container": "sleeper/main",
                               "previous": True})
        previous = await receive_type(ws, "classroom.logs")
        assert previous["previous"] is True
        assert previous["text"].startswith("Error from server (BadRequest)")
    for ws in (teacher, li):
        await ws.disconnect()


def test_a_page_of_text_json_escapes_stays_under_the_frame_limit():
    """Characters outside ASCII take up to 6 bytes each in the JSON text: a full page of them
    is cut at its start, so it still ends where it was asked to and joins the text held."""
    from podlab.lab.runner import encode_log_page

    text = "日志" * (MAX_LOG_PAGE_CHARS // 2)
    start = 1000
    encoded = encode_log_page({"type": "classroom.logs", "container": KEY,
                               "previous": False, "offset": start, "total": 10**6,
                               "text": text})
    assert len(encoded.encode()) <= MAX_FRAME_BYTES
    import json

    message = json.loads(encoded)
    assert text.endswith(message["text"]) and len(message["text"]) > MAX_LOG_PAGE_CHARS // 4
    assert message["offset"] == start + len(text) - len(message["text"])
