"""The edges stay thin: what a live session holds for the interview's rules is used by the service only.

The Socket.IO and HTTP edges call the service (``InterviewService.hear`` for audio, like every other
client event); they never reach into a live session's audio queue, budgets, listener or speech.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sio_server"
INTERVIEW_PARTS = {"audio", "spend", "listener", "speech", "speaking", "closing"}


def reaches_into_live_sessions(source: str) -> list[str]:
    """``live.<part>`` uses in ``source`` (a live session's interview-owned parts)."""
    return [
        f"line {node.lineno}: live.{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in INTERVIEW_PARTS
        and isinstance(node.value, ast.Name)
        and node.value.id == "live"
    ]


@pytest.mark.parametrize("edge", ["transport", "web"])
def test_the_edges_never_reach_into_a_live_session(edge: str):
    found = {
        str(path.relative_to(PACKAGE)): uses
        for path in sorted((PACKAGE / edge).rglob("*.py"))
        if (uses := reaches_into_live_sessions(path.read_text()))
    }
    assert found == {}


def test_the_check_finds_an_audio_handler_that_goes_around_the_service():
    assert reaches_into_live_sessions("ok = live.audio.put(chunk)") == ["line 1: live.audio"]
