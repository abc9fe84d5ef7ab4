"""An in-memory container filesystem implementing ``process.FileSystem``.

A :class:`MemoryFileSystem` holds the image's files plus the container's writable layer in one
tree (files are strings, directories are sets of names). Other file systems can be mounted at a
path (volumes), optionally read-only. ``read_only_root=True`` models
``securityContext.readOnlyRootFilesystem``: every write outside a writable mount fails with
``EROFS``. ``/dev/null`` swallows writes and ``/dev/termination-log`` stays writable even on a
read-only root, as the kubelet bind-mounts it.

A tree on the node's disk (a container's writable layer, a disk-backed emptyDir) has ``disk``:
it reserves bytes and inodes on the node's file system. A write past the free bytes writes
what fits and fails with ``ENOSPC`` (as ``write(2)`` does once the disk is full); a file or
directory that finds no free inode is not created (``ENOSPC`` too).
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from podlab.engine.runtime.process import FileSystem, FileSystemError

__all__ = ["MemoryFileSystem", "Mount", "normalise"]

# Writable even when the root is read-only: the kubelet bind-mounts them into the container.
_ALWAYS_WRITABLE = frozenset({"/dev/null", "/dev/termination-log"})


def normalise(path: str, cwd: str = "/") -> str:
    """Make ``path`` absolute (relative to ``cwd``) and collapse ``.``, ``..`` and ``//``."""
    if len(path) + len(cwd) <= 512:
        return _normalise_cached(path, cwd)  # probes and scripts use the same paths again
    return _normalise(path, cwd)


def _normalise(path: str, cwd: str) -> str:
    if not path.startswith("/"):
        path = posixpath.join(cwd or "/", path)
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


_normalise_cached = functools.lru_cache(maxsize=8192)(_normalise)


@dataclass(slots=True)
class Mount:
    """A file system mounted at ``path`` (a volume), optionally read-only."""

    path: str
    fs: FileSystem
    read_only: bool = False


class MemoryFileSystem:
    """A tree of directories and text files kept in dictionaries."""

    def __init__(
        self,
        files: Mapping[str, str] | None = None,
        *,
        dirs: Iterable[str] = (),
        read_only_root: bool = False,
    ) -> None:
        self._files: dict[str, str] = {}
        self._dirs: dict[str, set[str]] = {"/": set()}
        self._mounts: dict[str, Mount] = {}
        #: ``generation_under``: whether a path (as asked) is clear of every mount
        self._clear_paths: dict[str, bool] = {}
        #: bytes written to a file beyond what the tree keeps of it (``count_append``)
        self._uncounted: dict[str, int] = {}
        #: characters of every file's content (kept up to date by every change)
        self._kept = 0
        self._generation = 0
        #: ``layer_bytes``'s last answer: (generation, base, skip, bytes)
        self._layer_cache: tuple[int, Mapping[str, str], tuple[str, ...], int] | None = None
        #: ``layer_inodes``'s last answer, alike
        self._inode_cache: tuple[int, Mapping[str, str], tuple[str, ...], int] | None = None
        #: a tmpfs (emptyDir with medium Memory): its files are memory of the writer
        self.memory_backed = False
        #: the node's free disk bytes and inodes, for a tree on the node's disk (None: unbounded)
        #: ``disk(bytes, inodes)`` reserves them and returns what it could grant
        self.disk: Callable[[int, int], tuple[int, int]] | None = None
        #: PATH lookups (shell.interp.Shell.find_command), valid while the generation holds
        self.command_cache: dict[tuple[str, str, str], tuple[tuple[int, ...], str | None]] = {}
        for d in dirs:
            self._make_dirs(normalise(d))
        self.add_files(files or {})
        self.read_only_root = read_only_root

    def add_files(self, files: Mapping[str, str]) -> None:
        """Put ``files`` in the tree (creating their directories), replacing any there."""
        self._generation += 1
        for path, data in files.items():
            path = normalise(path)
            self._make_dirs(posixpath.dirname(path))
            self._kept += len(data) - len(self._files.get(path, ""))
            self._files[path] = data
            self._dirs[posixpath.dirname(path)].add(posixpath.basename(path))

    def copy(self, *, read_only_root: bool = False) -> MemoryFileSystem:
        """An independent copy of the tree, without the mounts: a new container's layer over
        the same image files (cheaper than building the tree again, file by file)."""
        new = MemoryFileSystem.__new__(MemoryFileSystem)
        new._files = dict(self._files)
        new._dirs = {path: set(names) for path, names in self._dirs.items()}
        new._mounts = {}
        new._clear_paths = {}
        new._uncounted = dict(self._uncounted)
        new._kept = self._kept
        new._generation = 0
        new._layer_cache = None
        new._inode_cache = None
        new.memory_backed = False
        new.disk = None
        new.command_cache = {}
        new.read_only_root = read_only_root
        return new

    def generation_under(self, path: str) -> tuple[int, ...] | None:
        """``lookup_generation`` for what ``path`` and the paths below it look up: only this
        tree's own generation when no mount is at, above or below ``path`` (a web server's
        root, asked on every request, is seldom near the service account's or the cgroup
        files' mount)."""
        if not self._mounts:
            return (self._generation,)
        clear = self._clear_paths
        if path not in clear:
            if len(clear) >= 256:
                clear.clear()
            where = normalise(path)
            below = where.rstrip("/") + "/"
            clear[path] = not any(
                where == mpath
                or mpath.startswith(below)
                or where.startswith(mpath.rstrip("/") + "/")
                for mpath in self._mounts
            )
        if clear[path]:
            return (self._generation,)
        return self.lookup_generation()

    def lookup_generation(self) -> tuple[int, ...] | None:
        """A value that changes whenever this tree or a tree mounted in it may have changed,
        or None when a mount cannot tell (then nothing may be cached about its paths)."""
        if not self._mounts:
            return (self._generation,)
        parts = [self._generation]
        for mount in self._mounts.values():
            fs = mount.fs
            if type(fs) is MemoryFileSystem and not fs._mounts:
                parts.append(fs._generation)  # its lookup_generation, without the call
            else:
                generation = getattr(fs, "lookup_generation", None)
                inner = generation() if generation is not None else None
                if inner is None:
                    return None
                parts.extend(inner)
            parts.append(-1)
        return tuple(parts)

    # --- mounts -----------------------------------------------------------------------

    def mount(self, path: str, fs: FileSystem, *, read_only: bool = False) -> None:
        """Mount ``fs`` at ``path``; the mount point directory is created if needed."""
        self._generation += 1
        path = normalise(path)
        self._make_dirs(path)
        self._mounts[path] = Mount(path, fs, read_only)
        self._clear_paths = {}

    def mounts(self) -> list[Mount]:
        return [self._mounts[p] for p in sorted(self._mounts)]

    def _find_mount(self, path: str) -> tuple[Mount, str] | None:
        if not self._mounts:
            return None
        best: Mount | None = None
        for mpath, mount in self._mounts.items():
            if (path == mpath or path.startswith(mpath.rstrip("/") + "/")) and (
                best is None or len(mpath) > len(best.path)
            ):
                best = mount
        if best is None:
            return None
        inner = "/" + path[len(best.path) :].lstrip("/")
        return best, normalise(inner)

    # --- helpers ----------------------------------------------------------------------

    def _make_dirs(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        current = "/"
        for part in parts:
            child = posixpath.join(current, part)
            if child in self._files:
                raise FileSystemError("ENOTDIR", child)
            self._dirs[current].add(part)
            self._dirs.setdefault(child, set())
            current = child

    def _check_parent(self, path: str) -> str:
        parent = posixpath.dirname(path)
        if parent in self._files:
            raise FileSystemError("ENOTDIR", path)
        if parent not in self._dirs:
            # A missing component below a file is ENOTDIR; elsewhere ENOENT.
            probe = parent
            while probe != "/":
                probe = posixpath.dirname(probe)
                if probe in self._files:
                    raise FileSystemError("ENOTDIR", path)
            raise FileSystemError("ENOENT", path)
        return parent

    def _writable(self, path: str) -> None:
        if self.read_only_root and path not in _ALWAYS_WRITABLE:
            raise FileSystemError("EROFS", path)

    # --- the FileSystem protocol ------------------------------------------------------

    def read(self, path: str) -> str:
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            return found[0].fs.read(found[1])
        if path == "/dev/null":
            return ""
        if path in self._dirs:
            raise FileSystemError("EISDIR", path)
        if path not in self._files:
            self._check_parent(path)
            raise FileSystemError("ENOENT", path)
        return self._files[path]

    def write(self, path: str, data: str, *, append: bool = False) -> None:
        self._generation += 1
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            mount, inner = found
            if mount.read_only:
                raise FileSystemError("EROFS", path)
            mount.fs.write(inner, data, append=append)
            return
        if path == "/dev/null":
            return
        if path in self._dirs:
            raise FileSystemError("EISDIR", path)
        parent = self._check_parent(path)
        self._writable(path)
        full = False
        if self.disk is not None:
            data, full = self._fit(self.disk, path, data, append)
        if append and path in self._files:
            # Taken out of the dict, the text has one reference: ``+=`` can grow it in place
            # rather than copy it, so appending to a log file costs its new bytes only.
            text = self._files.pop(path)
            text += data
            self._files[path] = text
        else:
            self._kept -= len(self._files.get(path, ""))
            self._files[path] = data
            self._uncounted.pop(path, None)
        self._kept += len(data)
        self._dirs[parent].add(posixpath.basename(path))
        self._generation += 1  # measuring the disk above may have cached the old figures
        if full:
            raise FileSystemError("ENOSPC", path)

    def _fit(
        self, disk: Callable[[int, int], tuple[int, int]], path: str, data: str, append: bool
    ) -> tuple[str, bool]:
        """What of ``data`` fits on the node's disk, and whether some did not: a new file
        needs a free inode (else ``ENOSPC`` before anything is written), and so does the
        first change of an image's file (copied up into the layer, where all its bytes
        count); truncating first frees the file's old bytes."""
        old = self._files.get(path)
        base = getattr(self, "_base_files", None)
        copy_up = old is not None and base is not None and base.get(path) is old
        inodes = 1 if old is None or copy_up else 0
        counted = 0 if old is None or copy_up else len(old) + self._uncounted.get(path, 0)
        need = len(data) - (counted if not append else 0)
        if copy_up and append:
            need += len(old or "")
        got_bytes, got_inodes = disk(max(need, 0), inodes)
        if got_inodes < inodes:
            if got_bytes:
                disk(-got_bytes, 0)  # nothing written: give the bytes back
            raise FileSystemError("ENOSPC", path)
        if need <= got_bytes:
            return data, False
        return data[: max(len(data) - (need - got_bytes), 0)], True

    def exists(self, path: str) -> bool:
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            return found[0].fs.exists(found[1])
        return path in self._files or path in self._dirs

    def is_dir(self, path: str) -> bool:
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            return found[0].fs.is_dir(found[1])
        return path in self._dirs

    def listdir(self, path: str) -> list[str]:
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            return found[0].fs.listdir(found[1])
        if path in self._files:
            raise FileSystemError("ENOTDIR", path)
        if path not in self._dirs:
            raise FileSystemError("ENOENT", path)
        return sorted(self._dirs[path])

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        self._generation += 1
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            mount, inner = found
            if inner == "/":
                if not parents:
                    raise FileSystemError("EEXIST", path)
                return
            if mount.read_only:
                raise FileSystemError("EROFS", path)
            mount.fs.mkdir(inner, parents=parents)
            return
        if path in self._dirs:
            if parents:
                return
            raise FileSystemError("EEXIST", path)
        if path in self._files:
            raise FileSystemError("EEXIST" if not parents else "ENOTDIR", path)
        if parents:
            probe = path
            while probe not in self._dirs:
                if probe in self._files:
                    raise FileSystemError("ENOTDIR", path)
                probe = posixpath.dirname(probe)
            self._writable(path)
            missing = [path]
            while posixpath.dirname(missing[-1]) not in self._dirs:
                missing.append(posixpath.dirname(missing[-1]))
            free = self._inodes(len(missing))
            if free < len(missing):
                # mkdir -p makes the directories it can, one by one, until none is free
                if free > 0:
                    self._make_dirs(missing[-free])
                self._generation += 1
                raise FileSystemError("ENOSPC", missing[-free - 1])  # the one not made
            self._make_dirs(path)
            self._generation += 1  # measuring the disk above may have cached the old figures
            return
        parent = self._check_parent(path)
        self._writable(path)
        if self._inodes(1) < 1:
            raise FileSystemError("ENOSPC", path)
        self._dirs[path] = set()
        self._dirs[parent].add(posixpath.basename(path))
        self._generation += 1  # measuring the disk above may have cached the old figures

    def _inodes(self, wanted: int) -> int:
        """Reserve up to ``wanted`` inodes on the node's disk: how many were granted."""
        return self.disk(0, wanted)[1] if self.disk is not None else wanted

    def remove(self, path: str, *, recursive: bool = False) -> None:
        self._generation += 1
        path = normalise(path)
        found = self._find_mount(path)
        if found:
            mount, inner = found
            if inner == "/":
                raise FileSystemError("EBUSY", path)
            if mount.read_only:
                raise FileSystemError("EROFS", path)
            mount.fs.remove(inner, recursive=recursive)
            return
        if path in self._files:
            self._writable(path)
            self._kept -= len(self._files.pop(path))
            self._uncounted.pop(path, None)
            self._dirs[posixpath.dirname(path)].discard(posixpath.basename(path))
            return
        if path not in self._dirs:
            self._check_parent(path)
            raise FileSystemError("ENOENT", path)
        if path == "/":
            raise FileSystemError("EBUSY", path)
        if not recursive:
            raise FileSystemError("EISDIR", path)
        self._writable(path)
        prefix = path + "/"
        if any(m == path or m.startswith(prefix) for m in self._mounts):
            raise FileSystemError("EBUSY", path)
        for f in [f for f in self._files if f.startswith(prefix)]:
            self._kept -= len(self._files.pop(f))
            self._uncounted.pop(f, None)
        for d in [d for d in self._dirs if d.startswith(prefix)]:
            del self._dirs[d]
        del self._dirs[path]
        self._dirs[posixpath.dirname(path)].discard(posixpath.basename(path))

    # --- extras used by the shell and tests ------------------------------------------

    def size(self, path: str) -> int:
        """Bytes in a file (UTF-8), 4096 for a directory."""
        if self.is_dir(path):
            return 4096
        text = self.read(path)
        tree, inner = self.backing_path(path)
        extra = tree._uncounted.get(inner, 0) if tree is not None else 0
        return (len(text) if text.isascii() else len(text.encode())) + extra

    def file_bytes(self) -> int:
        """Characters in every file of the root tree (mounts excluded), counting what was
        written past the kept content: a tmpfs's usage, a writable layer's."""
        return self._kept + sum(self._uncounted.values())

    def own(self, path: str) -> str | None:
        """The content of a file of this tree at ``path`` (normalised, not under a mount:
        as ``backing_path`` gives it), or None; without the lookups of ``read``."""
        return self._files.get(path)

    def kept_bytes(self) -> int:
        """Characters of content the tree keeps (mounts excluded)."""
        return self._kept

    def layer_bytes(self, base: Mapping[str, str], skip: tuple[str, ...] = ()) -> int:
        """Bytes of the files that differ from ``base`` (the image's files) plus the bytes
        counted past the kept content: a writable layer's disk usage. Paths starting with
        one of ``skip`` (what the kubelet bind-mounts: hosts, resolv.conf, the service
        account token) are not the layer's. The answer is kept until the tree changes (every
        change moves the generation): the eviction manager asks every 10 s about containers
        whose layer rarely changes."""
        cached = self._layer_cache
        if (cached is not None and cached[0] == self._generation and cached[1] is base
                and cached[2] == skip):
            return cached[3]
        total = 0
        for path, data in self._files.items():
            if base.get(path) is data or path.startswith(skip) or base.get(path) == data:
                continue
            total += len(data) if data.isascii() else len(data.encode())
        total += sum(n for p, n in self._uncounted.items() if not p.startswith(skip))
        self._layer_cache = (self._generation, base, skip, total)
        return total

    def inodes(self) -> int:
        """Inodes of the root tree (mounts excluded): every directory, itself included, and
        every file, as ``du --inodes`` and the kubelet's volume metrics count them."""
        return len(self._dirs) + len(self._files)

    def mark_base(self) -> None:
        """Remember the directories there now (the image's): a writable layer's own
        directories are the ones made later (``layer_inodes``)."""
        self._base_dirs = frozenset(self._dirs)
        self._base_files = dict(self._files)
        self._generation += 1  # the layer's figures are measured from here

    def layer_inodes(self, base: Mapping[str, str], skip: tuple[str, ...] = ()) -> int:
        """Inodes of a writable layer: the files that differ from ``base`` (a file changed
        in the image is copied up) and the directories made since ``mark_base``. Kept until
        the tree changes, as ``layer_bytes`` is."""
        cached = self._inode_cache
        if (cached is not None and cached[0] == self._generation and cached[1] is base
                and cached[2] == skip):
            return cached[3]
        base_dirs = getattr(self, "_base_dirs", frozenset())
        files = sum(
            1
            for path, data in self._files.items()
            if not path.startswith(skip) and not (base.get(path) is data or base.get(path) == data)
        )
        dirs = sum(1 for path in self._dirs if path not in base_dirs and not path.startswith(skip))
        self._inode_cache = (self._generation, base, skip, files + dirs)
        return files + dirs

    def uncounted(self, path: str) -> int:
        """Bytes of the file at ``path`` (of this tree) written but not kept."""
        return self._uncounted.get(path, 0)

    def count_append(self, path: str, size: int) -> bool:
        """``size`` bytes appended to an existing file of this tree are counted but not kept:
        the file's size, ``du`` and the eviction manager see them; reading returns the part
        kept (PodLab's bound on real memory, docs/engine.md). False when there is no such
        file in this tree. On the node's disk, what does not fit is not counted and the
        write fails with ``ENOSPC``."""
        if path not in self._files:
            return False
        self._generation += 1
        full = False
        if self.disk is not None and size > 0:
            granted = self.disk(size, 0)[0]
            full, size = granted < size, granted
        self._uncounted[path] = self._uncounted.get(path, 0) + size
        self._generation += 1  # measuring the disk above may have cached the old figures
        if full:
            raise FileSystemError("ENOSPC", path)
        return True

    def backing(self, path: str) -> MemoryFileSystem | None:
        """The tree ``path`` is written to (this one or a mounted one), if it is a memory tree."""
        return self.backing_path(path)[0]

    def backing_path(self, path: str) -> tuple[MemoryFileSystem | None, str]:
        """The memory tree ``path`` is written to and the path inside it."""
        path = normalise(path)
        found = self._find_mount(path)
        target, inner = (found[0].fs, found[1]) if found else (self, path)
        if isinstance(target, MemoryFileSystem):
            return target, inner
        through = getattr(target, "backing_path", None)  # a subPath view of a volume
        if through is not None:
            return through(inner)
        return None, inner

    def snapshot(self) -> dict[str, str]:
        """Every file of the root tree (mounts excluded), for tests and debugging."""
        return dict(sorted(self._files.items()))
