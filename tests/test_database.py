import os

from django.db import connection


def test_suite_runs_on_the_database_ci_asked_for(db):
    """CI runs the suite twice; each run proves which database it really used."""
    expected = os.environ.get("EXPECT_DATABASE")
    if expected is None:
        url = os.environ.get("DATABASE_URL", "")
        expected = "postgresql" if url.startswith(("postgres", "pgsql")) else "sqlite"
    assert connection.vendor == expected
