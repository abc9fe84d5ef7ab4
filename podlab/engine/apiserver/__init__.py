"""The API server: bounded YAML loading (``yamlload``), the generated v1 schema (``schema``),
validation and defaulting (``validation``, ``defaults``, ``workloads``), manifests in
(``manifest``) and the store of non-Pod objects with their watch records (``objects``).
Mirrors ``k8s.io/apiserver``, ``pkg/apis/core/validation`` and ``pkg/registry``.
"""
