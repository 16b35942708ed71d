"""What the client adapter raises; ``code`` is the same code the JS adapter's ``InterviewError`` carries."""

from __future__ import annotations


class InterviewError(Exception):
    """The server answered a request with ``ok: false`` (or the session cannot go on)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ResumeRejected(InterviewError):
    """The server does not know the resume token any more (state ``rejected``)."""


class Superseded(InterviewError):
    """Another connection resumed this session (state ``superseded``)."""


class ConnectionLost(InterviewError, ConnectionError):
    """The connection dropped before a request that is not re-sent (``start``) was acked (code ``connection_lost``)."""


class RequestTimeout(InterviewError, TimeoutError):
    """No answer from the server in time (code ``timeout``)."""
