"""The Chinese catalogue is complete and current."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    catalogue = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    assert len(catalogue.translated_entries()) > 50


def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """Run makemessages on a copy of the project: no msgid may be missing from the catalogue."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("xgettext (GNU gettext) is required in CI")
        pytest.skip("GNU gettext is not installed")
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    for name in ("podlab", "templates", "manage.py"):
        src = base / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, copy / name)
    (copy / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO, copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="podlab.settings", DEBUG="1",
               PYTHONPATH=str(copy))
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy, env=env, check=True, capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in fresh.untranslated_entries()]
    fuzzy = [e.msgid for e in fresh.fuzzy_entries()]
    assert not missing, f"strings not in the catalogue: {missing[:10]}"
    assert not fuzzy, f"strings changed since translated: {fuzzy[:10]}"
