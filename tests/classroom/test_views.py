"""Rooms, join codes, seats and the pages around them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from podlab.classroom import services
from podlab.classroom.models import CODE_ALPHABET, JoinAttempt, Room, Seat

from .helpers import make_room, make_teacher

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher():
    return make_teacher()


def test_codes_avoid_ambiguous_characters_and_are_unique(teacher):
    codes = {make_room(teacher).code for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("0O1IL")


def test_makeinstructor_creates_and_updates(capsys):
    call_command("makeinstructor", "ada", "--password", "s3cret-pass")
    user = User.objects.get(username="ada")
    assert services.is_instructor(user=user) and user.check_password("s3cret-pass")
    call_command("makeinstructor", "ada", "--password", "other-pass")
    user.refresh_from_db()
    assert user.check_password("other-pass") and user.groups.count() == 1
    assert "Updated instructor ada" in capsys.readouterr().out


def test_only_instructors_open_rooms(client, teacher):
    assert client.get("/en/classroom/").status_code == 302  # to the login page
    client.force_login(User.objects.create_user("student", password="x"))
    assert client.get("/en/classroom/").status_code == 403
    client.force_login(teacher)
    response = client.post("/en/classroom/", {"title": "Week 3"})
    room = Room.objects.get(instructor=teacher)
    assert response["Location"] == f"/en/classroom/{room.code}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert room.code in html and "<svg" in html and "<path" in html
    assert f"http://testserver/join/?code={room.code}" in html


def test_the_console_is_only_for_the_rooms_instructor(client, teacher):
    room = make_room(teacher)
    client.force_login(make_teacher("other"))
    assert client.get(f"/en/classroom/{room.code}/").status_code == 404


def test_close_and_reopen(client, teacher):
    room = make_room(teacher)
    client.force_login(teacher)
    client.post(f"/en/classroom/{room.code}/open/", {"open": "0"})
    room.refresh_from_db()
    assert not room.is_open
    other = client.__class__()
    response = other.post("/en/join/", {"code": room.code, "name": "ann"})
    assert "This room is closed." in response.content.decode()
    client.post(f"/en/classroom/{room.code}/open/", {"open": "1"})
    room.refresh_from_db()
    assert room.is_open


def test_join_seats_the_student_and_keeps_the_seat(client, teacher):
    room = make_room(teacher)
    response = client.post("/zh-hans/join/", {"code": room.code.lower(), "name": "  Bo  Li "})
    assert response["Location"] == f"/zh-hans/join/{room.code}/"
    seat = Seat.objects.get(room=room)
    assert seat.name == "Bo Li" and seat.lang == "zh-hans"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Bo Li" in page.content.decode()
    # Joining again from the same browser gives the same seat back.
    client.post("/en/join/", {"code": room.code, "name": ""})
    assert Seat.objects.filter(room=room).count() == 1
    assert Seat.objects.get(room=room).lang == "en"


def test_names_are_unique_in_a_room(client, teacher):
    room = make_room(teacher)
    client.post("/en/join/", {"code": room.code, "name": "ann"})
    other = client.__class__()
    response = other.post("/en/join/", {"code": room.code, "name": "ann"})
    assert "already uses that name" in response.content.decode()
    assert other.get(f"/en/join/{room.code}/")["Location"] == f"/en/join/?code={room.code}"


def test_wrong_codes_are_rate_limited(client, teacher):
    room = make_room(teacher)
    for _ in range(services.FAILED_JOINS_PER_MINUTE):
        response = client.post("/en/join/", {"code": "ZZZZZZ", "name": "guesser"})
        assert "No room has this code" in response.content.decode()
    # Now even the right code is refused from this session and address.
    response = client.post("/en/join/", {"code": room.code, "name": "guesser"})
    assert response.status_code == 429
    assert not Seat.objects.exists()
    # A minute later the client may try again.
    JoinAttempt.objects.update(at=timezone.now() - timedelta(minutes=2))
    response = client.post("/en/join/", {"code": room.code, "name": "guesser"})
    assert response.status_code == 302


def test_a_schools_nat_is_not_locked_out_by_ten_wrong_codes(teacher):
    """Ten wrong codes from one address (other sessions) leave the right code working."""
    room = make_room(teacher)
    who = [services.JoinKeys(ip="10.0.0.9", session=f"s{i}") for i in range(11)]
    for i in range(10):
        with pytest.raises(services.JoinError):
            services.join_room(code="XXXXXX", name="x", lang="en", who=who[i], session={})
    seat = services.join_room(code=room.code, name="x", lang="en", who=who[10], session={})
    assert seat.room == room


def test_wrong_codes_are_limited_per_address_too(teacher, settings):
    settings.CLASSROOM_WRONG_CODES_PER_ADDRESS = 12
    room = make_room(teacher)
    for i in range(12):
        with pytest.raises(services.JoinError):
            services.join_room(code="XXXXXX", name="x", lang="en",
                               who=services.JoinKeys(ip="10.0.0.9", session=f"s{i}"), session={})
    with pytest.raises(services.JoinError) as caught:
        services.join_room(code=room.code, name="x", lang="en",
                           who=services.JoinKeys(ip="10.0.0.9", session="fresh"), session={})
    assert caught.value.code == "rate_limited"
    # Another address is not affected.
    services.join_room(code=room.code, name="y", lang="en",
                       who=services.JoinKeys(ip="10.0.0.10", session="other"), session={})


def test_ipv6_clients_are_counted_per_64():
    a = services.address_key("2001:db8:1:2::1")
    assert a == services.address_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert services.address_key("2001:db8:1:3::1") != a
    assert services.address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert services.address_key("192.0.2.7") == "192.0.2.7"
    assert services.address_key("not an address") == "not an address"


def test_seats_are_capped_per_room_and_per_address(client, teacher, settings):
    settings.CLASSROOM_SEATS_PER_ROOM = 3
    settings.CLASSROOM_NEW_SEATS_PER_ADDRESS = 2
    room = make_room(teacher)
    sessions = [{} for _ in range(4)]
    for i in range(2):
        services.join_room(code=room.code, name=f"a{i}", lang="en", session=sessions[i],
                           who=services.JoinKeys(ip="2001:db8::1", session=f"a{i}"))
    with pytest.raises(services.JoinError) as caught:  # same /64, another address in it
        services.join_room(code=room.code, name="a2", lang="en", session={},
                           who=services.JoinKeys(ip="2001:db8::2", session="a2"))
    assert caught.value.code == "rate_limited_seats"
    services.join_room(code=room.code, name="b0", lang="en", session=sessions[2],
                       who=services.JoinKeys(ip="10.1.1.1", session="b0"))
    with pytest.raises(services.JoinError) as caught:
        services.join_room(code=room.code, name="b1", lang="en", session=sessions[3],
                           who=services.JoinKeys(ip="10.1.1.1", session="b1"))
    assert caught.value.code == "room_full"
    assert Seat.objects.filter(room=room).count() == 3
    # Someone already seated comes back (a reload, another tab): never refused.
    again = services.join_room(code=room.code, name="", lang="en", session=sessions[0],
                               who=services.JoinKeys(ip="2001:db8::1", session="a0"))
    assert again.name == "a0"
    response = client.post("/zh-hans/join/", {"code": room.code, "name": "late"})
    assert "满" in response.content.decode()


def test_join_page_prefills_the_code_from_the_qr_link(client, teacher):
    room = make_room(teacher)
    response = client.get(f"/join/?code={room.code}", follow=True)
    assert response.status_code == 200
    assert re.search(rf'value="{room.code}"', response.content.decode())
