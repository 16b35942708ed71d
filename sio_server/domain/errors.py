"""Errors with a protocol error code, raised by the turn logic and the store."""

from __future__ import annotations


class InterviewError(Exception):
    """A client request that cannot be carried out; ``code`` goes on the wire."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The ``{"code", "message"}`` object of an error ack."""
        return {"code": self.code, "message": self.message}
