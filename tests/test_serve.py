"""`make serve`: production serving (gunicorn + whitenoise, DEBUG off, PostgreSQL only).

The refusal without PostgreSQL runs everywhere; the real start (migrate, collectstatic,
the worker, gunicorn answering behind a TLS proxy) runs on PostgreSQL.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "bin" / "check_production_database"


def _check(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECK)],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )


def test_serve_refuses_without_database_url_and_says_what_to_set():
    result = _check("")
    assert result.returncode == 1
    assert "make serve needs DATABASE_URL" in result.stderr
    assert "postgres://" in result.stderr
    assert "make demo" in result.stderr


def test_serve_refuses_sqlite():
    result = _check("sqlite:///db.sqlite3")
    assert result.returncode == 1
    assert "names a 'sqlite' database" in result.stderr


def test_serve_accepts_postgresql():
    assert _check("postgres://sos:secret@db.internal:5432/sos").returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


@pytest.mark.django_db
def test_make_serve_runs_gunicorn_with_whitenoise_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("make serve serves PostgreSQL only (its refusal of SQLite is tested above)")
    config = connection.settings_dict
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    url = (
        f"postgres://{config['USER']}{password}@{config['HOST'] or '127.0.0.1'}:"
        f"{config['PORT'] or 5432}/{config['NAME']}"
    )
    port = _free_port()
    server = subprocess.Popen(
        # -o: never reinstall the dependencies from a test.
        ["make", "--no-print-directory", "-o", ".venv/.installed-stamp", "serve"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "true",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole at the end
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, headers, body = _get(f"{base}/login/", **{"X-Forwarded-Proto": "https"})
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.poll() is not None else ""
                    pytest.fail(f"make serve did not start: {output}")
                time.sleep(0.5)
        # Behind the TLS proxy: the page; straight over plain HTTP: sent to HTTPS.
        assert status == 200
        assert headers["Server"] == "gunicorn"
        assert "Strict-Transport-Security" in headers
        plain_status, plain_headers, _ = _get(f"{base}/login/")
        assert plain_status == 301
        assert plain_headers["Location"].startswith("https://")
        # DEBUG off: static files by their hashed names (collectstatic ran), from whitenoise,
        # cached for good.
        html = body.decode()
        css = html.split('href="/static/css/', 1)[1].split('"', 1)[0]
        assert css.count(".") == 2, f"not a hashed name: {css}"
        css_status, css_headers, _ = _get(
            f"{base}/static/css/{css}", **{"X-Forwarded-Proto": "https"}
        )
        assert css_status == 200
        assert "immutable" in css_headers["Cache-Control"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
