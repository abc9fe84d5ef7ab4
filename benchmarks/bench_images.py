"""Image catalogue benchmarks (a script, not a test): prints figures.

1. Cold tag resolution: every tag of every repository's scheme resolved once, caches cleared.
2. Warm ``lookup_image`` (what the kubelet calls on every container start).
3. A lookup by digest (the registry searches the repository's tags once, then caches).
4. Building an image's files and file system (once per image, then copied per container).

Run: ``.venv/bin/python benchmarks/bench_images.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from podlab.engine.runtime import catalogue, images  # noqa: E402


def main() -> int:
    repositories = list(catalogue.repositories())
    catalogue.resolve.cache_clear()
    start = time.perf_counter()
    tags = {repo: catalogue.all_tags(repo) for repo in repositories}
    cold = time.perf_counter() - start
    count = sum(len(t) for t in tags.values())
    print(f"cold: {count} tags of {len(repositories)} repositories in {cold * 1000:.1f} ms "
          f"({count / cold:,.0f} tags/s, including scheme expansion)")

    refs = ["nginx:1.21", "busybox:1.36", "postgres:14-alpine", "php:7.4-fpm",
            "registry.k8s.io/e2e-test-images/agnhost:2.40", "my-app:latest"]
    n = 20_000
    start = time.perf_counter()
    for i in range(n):
        images.lookup_image(refs[i % len(refs)])
    warm = time.perf_counter() - start
    print(f"warm lookup_image: {n / warm:,.0f} lookups/s ({warm / n * 1e6:.1f} µs each)")

    digest = images.lookup_image("nginx:1.21.6").info.digest  # type: ignore[union-attr]
    start = time.perf_counter()
    found = images.lookup_image(f"nginx@{digest}")
    by_digest = time.perf_counter() - start
    assert found.info is not None
    print(f"lookup by digest (nginx, {len(tags['docker.io/library/nginx'])} tags): "
          f"{by_digest * 1000:.1f} ms")

    info = images.lookup_image("busybox:1.36").info
    assert info is not None
    start = time.perf_counter()
    for _ in range(1000):
        images.new_filesystem(info, hostname="p")
    fs = time.perf_counter() - start
    print(f"new_filesystem(busybox): {fs:.3f} ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
