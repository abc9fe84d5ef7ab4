"""The registry's tag rules (data/images.json read by catalogue.py)."""

from __future__ import annotations

import pytest

from podlab.engine.runtime import catalogue, images


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("nginx:1.21", "1.21.6"),
        ("nginx:1.21.6", "1.21.6"),
        ("nginx:1.21-alpine", "1.21.6"),
        ("nginx:1.14.2", "1.14.2"),
        ("nginx:1.7.9", "1.7.9"),
        ("nginx:1", "1.29.1"),
        ("nginx:stable", "1.28.0"),
        ("nginx:stable-alpine", "1.28.0"),
        ("nginx:mainline", "1.29.1"),
        ("nginx:alpine", "1.29.1"),
        ("nginx:1.27", "1.27.5"),
        ("nginx:1.25-alpine-slim", "1.25.5"),
        ("busybox:1.36", "1.36.1"),
        ("busybox:1.28", "1.28.4"),
        ("busybox:1.36.1-musl", "1.36.1"),
        ("busybox:uclibc", "1.37.0"),
        ("alpine:3.19", "3.19.8"),
        ("alpine:3", "3.22.1"),
        ("redis:6.2", "6.2.19"),
        ("redis:7-alpine", "7.4.5"),
        ("mysql:8.0", "8.0.43"),
        ("mysql:5.7-debian", "5.7.44"),
        ("mysql:lts", "8.4.6"),
        ("postgres:14-alpine", "14.19"),
        ("postgres:14.5", "14.5"),
        ("postgres:9.6", "9.6.24"),
        ("php:7.4-fpm", "7.4.33"),
        ("php:8.3-fpm-alpine", "8.3.25"),
        ("fluentd:latest", "1.16.2"),
        ("fluentd", "1.16.2"),
        ("fluent/fluent-bit:3.1", "3.1.10"),
        ("envoyproxy/envoy:v1.31.2", "1.31.2"),
        ("envoyproxy/envoy:v1.31-latest", "1.31.10"),
        ("envoyproxy/envoy:distroless-v1.31.2", "1.31.2"),
        ("prom/node-exporter:v1.3.1", "1.3.1"),
        ("prom/prometheus:v2.45.0", "2.45.0"),
        ("k8s.gcr.io/kube-apiserver:v1.24.0", "1.24.0"),
        ("registry.k8s.io/kube-apiserver:v1.34.1", "1.34.1"),
        ("registry.k8s.io/etcd:3.5.1-0", "3.5.1"),
        ("registry.k8s.io/etcd:3.5.15-0", "3.5.15"),
        ("istio/proxyv2:1.15.0", "1.15.0"),
        ("httpd:2.4", "2.4.65"),
        ("httpd:2.4.58-alpine", "2.4.58"),
    ],
)
def test_upstream_tags_pull(image: str, version: str) -> None:
    found = images.lookup_image(image)
    assert found.error is None, found.message
    res = images.resolved(found.info)  # type: ignore[arg-type]
    assert res is not None and res.version == version


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.277",  # a typo'd version
        "nginx:1.21.7",  # past the line's last release
        "nginx:1.21.06",
        "nginx:1.20-alpine-slim",  # variant before it was published
        "nginx:1.27-bullseye",  # variant after it stopped
        "busybox:1.38",
        "alpine:3.23.0",
        "postgres:14.20",
        "envoyproxy/envoy:latest",  # removed upstream (envoyproxy/envoy#10738)
        "envoyproxy/envoy:1.31.2",  # needs the v prefix
        "prom/prometheus:2.45.0",
        "prom/prometheus:v2.45",  # no minor-only tags
        "registry.k8s.io/etcd:3.5.15",  # every etcd tag carries the -0 build suffix
        "istio/proxyv2:1.15",  # istio publishes full versions only
        "php:7.4-fpm-slim",
    ],
)
def test_tags_that_do_not_exist_upstream(image: str) -> None:
    found = images.lookup_image(image)
    assert found.error == "NotFound"
    ref = str(images.parse_reference(image))
    assert found.message == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to '
        f'resolve reference "{ref}": {ref}: not found'
    )


@pytest.mark.parametrize(
    "image",
    ["my-app:latest", "user-service:v1", "data-processor:latest",
     "prometheus-community/prometheus:latest", "ngnix:1.27"],
)
def test_repositories_nobody_publishes_are_denied(image: str) -> None:
    found = images.lookup_image(image)
    ref = str(images.parse_reference(image))
    assert found.error == "NotFound"
    assert found.message == (
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to '
        f'resolve reference "{ref}": pull access denied, repository does not exist or may '
        "require authorization: server message: insufficient_scope: authorization failed"
    )


def test_sizes_and_digests_are_fixed_and_differ_by_release() -> None:
    a = images.lookup_image("nginx:1.21.5").info
    b = images.lookup_image("nginx:1.21.6").info
    again = images.lookup_image("nginx:1.21.6").info
    assert a is not None and b is not None and again is not None
    assert a.digest != b.digest and b.digest == again.digest
    assert a.size_bytes != b.size_bytes
    alpine = images.lookup_image("nginx:1.21.6-alpine").info
    assert alpine is not None and alpine.size_bytes < b.size_bytes / 2
    assert alpine.files["/etc/os-release"].startswith('NAME="Alpine Linux"')
    by_digest = images.lookup_image(f"nginx@{b.digest}")
    assert by_digest.info is not None and by_digest.info.reference.endswith(":1.21.6")


def test_variant_config_php_fpm() -> None:
    fpm = images.lookup_image("php:7.4-fpm").info
    cli = images.lookup_image("php:7.4").info
    assert fpm is not None and cli is not None
    assert fpm.cmd == ["php-fpm"] and cli.cmd == ["php", "-a"]
    assert fpm.env["PHP_VERSION"] == "7.4.33"


def test_every_repository_has_example_tags_that_resolve() -> None:
    for repository in catalogue.repositories():
        tags = catalogue.example_tags(repository)
        assert tags, repository
        for tag in tags:
            assert catalogue.resolve(repository, tag) is not None, (repository, tag)


def test_eras_change_the_config_with_the_release_inside() -> None:
    old = catalogue.resolve("docker.io/library/nginx", "1.14.2")
    assert old is not None and old.entrypoint == () and old.stop_signal == "SIGTERM"
    new = catalogue.resolve("docker.io/library/nginx", "1.25.1-alpine")
    assert new is not None and new.entrypoint == ("/docker-entrypoint.sh",)
    assert "/docker-entrypoint.d/15-local-resolvers.envsh" in dict(new.files)
    before = catalogue.resolve("docker.io/library/nginx", "1.25.0")
    assert before is not None
    assert "/docker-entrypoint.d/15-local-resolvers.envsh" not in dict(before.files)
    assert "/docker-entrypoint.d/30-tune-worker-processes.sh" in dict(before.files)
    # the image's files follow: no entrypoint script in an old image, the era's nginx.conf
    files = images.lookup_image("nginx:1.14.2").info.files
    assert "/docker-entrypoint.sh" not in files and "/usr/sbin/nginx" in files
    assert "error_log  /var/log/nginx/error.log warn;" in files["/etc/nginx/nginx.conf"]
    latest = images.lookup_image("nginx:latest").info.files
    assert "/docker-entrypoint.sh" in latest
    assert "error_log  /var/log/nginx/error.log notice;" in latest["/etc/nginx/nginx.conf"]
    # a repository without eras is unchanged
    assert catalogue.resolve("docker.io/library/httpd", "2.4").files == ()
