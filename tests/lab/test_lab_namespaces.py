"""A lab started from a manifest with Namespaces and ServiceAccounts creates them first; a
Pod that admission refuses (missing namespace or ServiceAccount) is reported in the learner's
language with kubectl's line."""

from __future__ import annotations

import pytest

from podlab.lab.services import lab_start

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
{extra}  containers:
  - name: web
    image: nginx:1.27
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n"


def test_a_namespace_in_the_manifest_is_created_before_its_pod() -> None:
    session, validation = lab_start(manifest_text=NAMESPACE + POD.format(extra=""), seed=1,
                                    lang="en")
    assert validation["ok"] and session is not None
    session.sim.run_until(20)
    pod = session.sim.pod("web", "shop")
    assert pod is not None and pod["status"]["phase"] == "Running"


@pytest.mark.parametrize(("lang", "needle"),
                         [("en", "does not exist"), ("zh-hans", "不存在")])
def test_a_missing_namespace_is_explained(lang: str, needle: str) -> None:
    session, validation = lab_start(manifest_text=POD.format(extra=""), seed=1, lang=lang)
    assert session is None and not validation["ok"]
    problem = validation["problems"][0]
    assert problem["code"] == "NotFound"
    assert needle in problem["message"] and "shop" in problem["message"]
    assert validation["kubectl"] == (
        'Error from server (NotFound): error when creating "lab.yaml": '
        'namespaces "shop" not found')


def test_a_missing_service_account_is_explained() -> None:
    text = NAMESPACE + POD.format(extra="  serviceAccountName: reader\n")
    session, validation = lab_start(manifest_text=text, seed=1, lang="zh-hans")
    assert session is None
    assert "ServiceAccount reader" in validation["problems"][0]["message"]
    assert validation["kubectl"].endswith(
        'pods "web" is forbidden: error looking up service account shop/reader: '
        'serviceaccount "reader" not found')
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n" \
        "  namespace: shop\n---\n"
    session, validation = lab_start(manifest_text=NAMESPACE + account + text[len(NAMESPACE):],
                                    seed=1, lang="en")
    assert validation["ok"] and session is not None
