"""Counting the fuzz's requests and server errors, and saying the totals at the end of the run.

Each fuzz test sends its requests through a FuzzClient and records its counts as user
properties; those travel from pytest-xdist's workers to the main process with the test's
report, where pytest_runtest_logreport adds them up and pytest_terminal_summary prints
"fuzz: N requests, M server errors (500)" in the CI log. tests/conftest.py imports both
hooks, so they run whichever folder pytest is pointed at.
"""

import traceback
from dataclasses import dataclass, field

TOTALS = {"requests": 0, "server_errors": 0}


@dataclass
class FuzzClient:
    """The Django test client, counting requests and keeping every 500 (method, path, data).

    The client is made with raise_request_exception=False, so a view's exception is a 500
    response to count, as a browser would see it, not an error that stops the walk.
    """

    client: object
    requests: int = 0
    server_errors: list = field(default_factory=list)

    def get(self, path, data=None, **extra):
        return self._count("GET", path, data, self.client.get(path, data, **extra))

    def post(self, path, data=None, **extra):
        return self._count("POST", path, data, self.client.post(path, data, **extra))

    def _count(self, method, path, data, response):
        self.requests += 1
        if response.status_code >= 500:
            self.server_errors.append((method, path, data, _cause(response)))
        return response

    def report(self, record_property) -> None:
        """Record the counts on the test's report (summed in the terminal summary)."""
        record_property("fuzz_requests", self.requests)
        record_property("fuzz_server_errors", len(self.server_errors))

    def assert_no_server_error(self) -> None:
        shown = "\n".join(
            f"{method} {path} => {cause}\n    with {str(data)[:300]}"
            for method, path, data, cause in self.server_errors[:30]
        )
        assert not self.server_errors, f"{len(self.server_errors)} server errors:\n{shown}"


def _cause(response) -> str:
    """Where the view failed: "file:line ExceptionType: message", or the status code."""
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return str(response.status_code)
    frames = traceback.extract_tb(exc_info[2])
    ours = [frame for frame in frames if "/.venv/" not in frame.filename] or frames
    where = f"{ours[-1].filename}:{ours[-1].lineno} ... {frames[-1].filename}:{frames[-1].lineno}"
    return f"{where} {exc_info[0].__name__}: {str(exc_info[1])[:200]}"


def pytest_runtest_logreport(report):
    # The fuzz fixture records its counts as it tears down: they ride on that report.
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "fuzz_requests":
            TOTALS["requests"] += value
        elif name == "fuzz_server_errors":
            TOTALS["server_errors"] += value


def pytest_terminal_summary(terminalreporter):
    if TOTALS["requests"]:
        terminalreporter.write_sep("-", "fuzz")
        terminalreporter.write_line(
            f"fuzz: {TOTALS['requests']} requests, {TOTALS['server_errors']} server errors (500)"
        )
