"""What the fuzz types: the inputs that gave server errors, and hypothesis strategies for more.

NASTY holds the shapes the attacker used (NUL, control characters, numbers past a 64-bit
integer, absurd dates, long text, odd Unicode); `nasty_text()` and `param_value()` let
hypothesis mix them with generated text. Every test here runs with `fuzz_settings()`:
deterministic (derandomize) so CI gives the same requests each run, no deadline (a page
takes what it takes), FUZZ_EXAMPLES examples (default small; raise it locally).
"""

import os
import random

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The examples per hypothesis test; CI keeps the default, a local run may ask for more.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# Rounds of the crawler over every URL as every role (each round one GET and one POST).
CRAWL_ROUNDS = int(os.environ.get("FUZZ_CRAWL_ROUNDS", os.environ.get("FUZZ_EXAMPLES", "1")))

HUGE = "9" * 20  # past a signed 64-bit integer (9,223,372,036,854,775,807)
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 3,
    "Ada\x01\x02\x1b[31mLovelace\x7f",
    "tab\tnew\nline\rcr\x0bvt\x0cff\x85nel\u2028ls",
    "\u200b\ufeff\u200e\u202eevil",
    "e\u0301\u0301\u0301",
    "\U0001f600\U0001f4a9",
    "\uffff\ufffe",
    "🏳️‍🌈 Zoë O\u2019Neill-García",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%00",
    "%",
    "_",
    "\\",
    "0",
    "-1",
    "1.5",
    "1e400",
    "NaN",
    "inf",
    HUGE,
    "-" + HUGE,
    "9223372036854775807",
    "9223372036854775808",
    "2147483648",
    "9" * 5000,
    "x" * 300,
    "x" * 5000,
    "0000-01-01",
    "9999-12-31",
    "99999-01-01",
    "999999999",
    "2024-02-30",
    "2024-13-01",
    "1899-12-31",
    "2025-06-15T25:61:00",
    "True",
    "on",
    "yes",
    "null",
    "[]",
    "{}",
]

# Text fields: NUL and control characters mixed into generated Unicode, up to long.
_controls = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\u200b"])
nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.lists(st.one_of(_controls, st.text(max_size=6)), max_size=8).map("".join),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**40).map(str),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=600),
)
# A date-ish value: real dates, absurd years, half-dates.
date_text = st.one_of(
    st.dates().map(str),
    st.integers(min_value=-10, max_value=10**12).map(lambda y: f"{y}-01-01"),
    st.sampled_from(["9999-12-31", "0001-01-01", "99999-01-01", "2024-02-30", ""]),
)
param_value = st.one_of(nasty_text, date_text)


def fuzz_settings(examples: int = EXAMPLES):
    """Hypothesis settings for a fuzz test: deterministic, bounded, no deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def seeded(seed: str) -> random.Random:
    """A random generator seeded by name: the crawler's requests are the same every run."""
    return random.Random(seed)
