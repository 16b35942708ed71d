"""Client adapters for the interview server: Python (``InterviewClient``) and the browser/Node ``interview-client.js``.

Both follow one client protocol, whose shared rules are ``protocol.json``.
"""

from .client import AudioBuffer, ConnectionLost, InterviewClient, InterviewError, RequestTimeout, ResumeRejected, Superseded

__all__ = [
    "AudioBuffer",
    "ConnectionLost",
    "InterviewClient",
    "InterviewError",
    "RequestTimeout",
    "ResumeRejected",
    "Superseded",
]
