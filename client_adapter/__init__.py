"""Client adapters for the interview server: Python (``InterviewClient``) and the browser (``interview-client.js``)."""

from .client import InterviewClient, InterviewError, ResumeRejected

__all__ = ["InterviewClient", "InterviewError", "ResumeRejected"]
