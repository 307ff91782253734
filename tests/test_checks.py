"""The project as Django sees it: no system-check findings, no model change unmigrated."""

import io

import pytest
from django.core.management import call_command


def test_system_checks_find_nothing():
    out = io.StringIO()

    # Raises SystemCheckError on any finding of warning level or worse.
    call_command("check", fail_level="WARNING", stdout=out, stderr=out)

    assert "System check identified no issues" in out.getvalue()


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    out = io.StringIO()

    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"makemigrations found changes without a migration:\n{out.getvalue()}")

    assert "No changes detected" in out.getvalue()
