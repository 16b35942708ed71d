"""Client adapters for the interview server: Python (``InterviewClient``) and the browser/Node ``interview-client.js``.

Both follow one client protocol, whose shared rules are ``protocol.json``.
"""

from .audio import AudioBuffer
from .client import InterviewClient
from .errors import ConnectionLost, InterviewError, RequestTimeout, ResumeRejected, Superseded

__all__ = [
    "AudioBuffer",
    "ConnectionLost",
    "InterviewClient",
    "InterviewError",
    "RequestTimeout",
    "ResumeRejected",
    "Superseded",
]
