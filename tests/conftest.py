"""Shared test setup: the lab worker processes start once per test run and are ready before
the first test that opens a lab (a cold worker takes a few seconds to import Django)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def lab_workers():
    from podlab.lab.workers import pool

    assert pool().start(wait=60), "the lab worker processes did not start"
    yield pool()


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts and ends in the default language: a test that activates Chinese in
    this thread (``translation.activate``, a consumer run inline) must not change the
    language ``reverse`` and the views use in the next test."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
