"""The in-memory container file system."""

from __future__ import annotations

import pytest

from podlab.engine.runtime.filesystem import MemoryFileSystem, normalise
from podlab.engine.runtime.process import FileSystemError


def fs(**kwargs: object) -> MemoryFileSystem:
    return MemoryFileSystem(
        {"/etc/hostname": "pod\n", "/dev/termination-log": ""},
        dirs=["/tmp"],
        **kwargs,  # type: ignore[arg-type]
    )


def kind_of(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(FileSystemError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value.kind


def test_normalise() -> None:
    assert normalise("a/../b/./c", "/tmp") == "/tmp/b/c"
    assert normalise("//etc//hostname") == "/etc/hostname"
    assert normalise("/..") == "/"


def test_read_write_append() -> None:
    f = fs()
    f.write("/tmp/a", "one\n")
    f.write("/tmp/a", "two\n", append=True)
    assert f.read("/tmp/a") == "one\ntwo\n"
    f.write("/tmp/a", "new")
    assert f.read("/tmp/a") == "new"
    assert f.exists("/tmp/a") and not f.is_dir("/tmp/a")
    assert f.listdir("/tmp") == ["a"]
    assert f.size("/tmp/a") == 3


def test_errno_kinds() -> None:
    f = fs()
    assert kind_of(f.read, "/nope") == "ENOENT"
    assert kind_of(f.read, "/tmp") == "EISDIR"
    assert kind_of(f.write, "/nodir/file", "x") == "ENOENT"
    assert kind_of(f.write, "/etc/hostname/x", "x") == "ENOTDIR"
    assert kind_of(f.listdir, "/etc/hostname") == "ENOTDIR"
    assert kind_of(f.mkdir, "/tmp") == "EEXIST"
    assert kind_of(f.mkdir, "/a/b") == "ENOENT"
    assert kind_of(f.remove, "/tmp") == "EISDIR"
    assert kind_of(f.remove, "/missing") == "ENOENT"
    assert kind_of(f.write, "/tmp", "x") == "EISDIR"


def test_mkdir_parents_and_recursive_remove() -> None:
    f = fs()
    f.mkdir("/a/b/c", parents=True)
    f.mkdir("/a/b/c", parents=True)  # no error with -p
    f.write("/a/b/c/file", "x")
    assert f.is_dir("/a/b")
    f.remove("/a", recursive=True)
    assert not f.exists("/a/b/c/file")
    assert not f.exists("/a")
    assert "a" not in f.listdir("/")


def test_read_only_root() -> None:
    f = fs(read_only_root=True)
    assert kind_of(f.write, "/tmp/x", "data") == "EROFS"
    assert kind_of(f.mkdir, "/tmp/d") == "EROFS"
    assert kind_of(f.remove, "/etc/hostname") == "EROFS"
    f.write("/dev/termination-log", "bye")  # bind-mounted by the kubelet: stays writable
    f.write("/dev/null", "discarded")
    assert f.read("/dev/termination-log") == "bye"
    assert f.read("/dev/null") == ""
    assert f.read("/etc/hostname") == "pod\n"


def test_mounts() -> None:
    root = fs(read_only_root=True)
    volume = MemoryFileSystem()
    config = MemoryFileSystem({"/app.conf": "debug=true\n"})
    root.mount("/data", volume)
    root.mount("/etc/config", config, read_only=True)
    root.write("/data/log.txt", "line\n")
    assert volume.read("/log.txt") == "line\n"
    assert root.listdir("/data") == ["log.txt"]
    assert root.read("/etc/config/app.conf") == "debug=true\n"
    assert kind_of(root.write, "/etc/config/app.conf", "x") == "EROFS"
    assert kind_of(root.remove, "/data") == "EBUSY"
    assert [m.path for m in root.mounts()] == ["/data", "/etc/config"]
    # another container sharing the volume sees the same file
    other = MemoryFileSystem()
    other.mount("/opt", volume)
    assert other.read("/opt/log.txt") == "line\n"
    other.mkdir("/opt/sub")
    assert volume.is_dir("/sub")


def test_nested_mount_prefers_longest_path() -> None:
    root = MemoryFileSystem()
    outer, inner = MemoryFileSystem(), MemoryFileSystem()
    root.mount("/mnt", outer)
    root.mount("/mnt/inner", inner)
    root.write("/mnt/inner/f", "in")
    root.write("/mnt/f", "out")
    assert inner.read("/f") == "in"
    assert outer.read("/f") == "out"


def test_generation_under_a_path_moves_with_the_mounts_at_above_or_below_it() -> None:
    root = fs()
    site = MemoryFileSystem({"/index.html": "old"})
    root.mount("/srv/www", site)
    root.mount("/var/run/secrets", MemoryFileSystem({"/token": "t"}))
    asked = ["/srv/www/", "/srv/www/index.html", "/srv", "/", "/etc/../srv/www/x"]
    before = {path: root.generation_under(path) for path in asked}
    elsewhere = root.generation_under("/etc/")
    site.write("/index.html", "new")
    # every path that can reach the site's tree sees the change; /etc cannot
    assert all(root.generation_under(path) != before[path] for path in asked)
    assert root.generation_under("/etc/") == elsewhere
    root.write("/etc/hostname", "other\n")
    assert root.generation_under("/etc/") != elsewhere  # the tree's own files count
