"""`manage.py bench` runs end to end and prints its tables. Timings are never asserted."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def bench(*args):
    out = io.StringIO()
    call_command("bench", "--quick", "--use-current-db", *args, stdout=out)
    return out.getvalue()


def test_quick_bench_prints_page_and_import_tables():
    output = bench("--sizes", "30,90", "--import-sizes", "40,120", "--repeat", "2")

    assert "page                             people    found  median ms   p95 ms" in output
    for label in ["people list", 'search "nguyen"', 'search "detroit"', "person page"]:
        assert [line for line in output.splitlines() if line.startswith(label)], label
    # Both sizes are measured; the second carries the ratio to the first.
    list_lines = [line.split() for line in output.splitlines() if line.startswith("people list")]
    assert [line[2] for line in list_lines] == ["30", "90"]
    assert len(list_lines[1]) == len(list_lines[0]) + 1

    assert "rows  existing  file MB  preview s   rows/s  apply s   rows/s" in output
    import_lines = [line.split() for line in output.splitlines() if line.endswith(")")]
    assert [line[0] for line in import_lines if line[1] == "rows:"] == ["40", "120"]
    assert "Peak memory of the process (ru_maxrss):" in output
    assert "Total time:" in output


def test_refuses_a_database_that_is_not_a_test_database(settings):
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = "/home/someone/db.sqlite3"
    try:
        with pytest.raises(CommandError, match="not a test database"):
            bench()
    finally:
        connection.settings_dict["NAME"] = name
