from podlab.engine.runtime import libc
from podlab.engine.runtime.images import new_filesystem
from tests.engine.test_images import info_for


def test_alpine_images_are_musl_and_debian_ones_glibc() -> None:
    assert libc.is_musl(new_filesystem(info_for("httpd:2.4-alpine"), hostname="p"))
    assert not libc.is_musl(new_filesystem(info_for("httpd:2.4"), hostname="p"))
    assert not libc.is_musl(None)
