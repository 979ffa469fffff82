"""The project's exception hierarchy.

Every error a user can fix derives from :class:`OutageSignalsError`; the CLI turns it into one
line on stderr and exit status 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class OutageSignalsError(Exception):
    """Base class for errors the user can act on."""


class InvalidRecordError(OutageSignalsError):
    """A post record that does not follow the contract.

    ``path`` and ``line`` locate it (``line`` is 1-based); ``problem`` says what is wrong.
    """

    def __init__(self, problem: str, path: str | None = None, line: int | None = None):
        self.problem = problem
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{problem}")


class CatalogError(OutageSignalsError):
    """The service catalog or a user override file is malformed."""


class ConfigError(OutageSignalsError):
    """A configuration value is missing or malformed."""


class InputError(OutageSignalsError):
    """An input file or argument cannot be used (missing, empty, wrong kind)."""


class CredentialsError(OutageSignalsError):
    """A collector has no credentials (the message names the variable to set) or they were refused."""


class CollectError(OutageSignalsError):
    """A collect stopped: the API refused, or kept failing past the retry budget.

    Everything collected before the failure is already saved; running again resumes.
    """


class RateLimited(CollectError):
    """A rate-limit wait would be longer than the run may wait; ``wait`` in seconds."""

    def __init__(self, message: str, wait: float):
        super().__init__(message)
        self.wait = wait
