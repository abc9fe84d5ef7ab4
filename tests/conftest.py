"""Shared test setup: the lab worker processes start once per test run and are ready before
the first test that opens a lab (a cold worker takes a few seconds to import Django)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def lab_workers():
    from podlab.lab.workers import pool

    assert pool().start(wait=60), "the lab worker processes did not start"
    yield pool()
