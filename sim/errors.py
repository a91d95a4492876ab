"""The one exception type for bad input, so the command line can turn it into a clear message."""

from __future__ import annotations

import difflib


class InputError(Exception):
    """Bad input from a user: a scenario, a data file, a population file or an argument.

    The message names the file, the key and what is allowed; the command line prints it on
    stderr and exits with status 2.
    """


def did_you_mean(word: str, choices) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
