"""The client protocol's shared rules, from ``protocol.json`` (which ``interview-protocol.js`` loads too).

The functions here are the rules both adapters apply, written the same way in JS:
the back-off, the refusal policy and the shutdown delay.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

PROTOCOL: dict[str, Any] = json.loads(Path(__file__).with_name("protocol.json").read_text(encoding="utf-8"))
NAMESPACE: str = PROTOCOL["namespace"]
RESUME: dict[str, str] = PROTOCOL["resume"]
SHUTDOWN: dict[str, Any] = PROTOCOL["shutdown"]
REFUSALS: dict[str, Any] = PROTOCOL["refusals"]
REQUEST_RETRY: dict[str, Any] = PROTOCOL["request_retry"]
REQUEST_RETRY_CODES = frozenset(REQUEST_RETRY["codes"])
SUPERSEDED: str = PROTOCOL["superseded_code"]
TERMINAL_STATES = frozenset(PROTOCOL["terminal_states"])
MS = 1000  # milliseconds a second: protocol.json counts in ms, asyncio in seconds
MAX_DOUBLINGS = 30  # 2**30 times any first delay is past every max_delay_ms


def backoff_ms(policy: dict[str, Any], retry: int, u: float | None = None) -> float:
    """The delay before retry ``retry`` (0-based) of a back-off ``policy`` of protocol.json; ``u`` in [-1, 1) is the jitter."""
    u = random.uniform(-1, 1) if u is None else u
    spread = 1 + policy.get("randomization", 0) * u
    return min(policy["first_delay_ms"] * 2 ** min(retry, MAX_DOUBLINGS) * spread, policy["max_delay_ms"])


def refusal_action(code: str) -> str:
    """What a ``connect_error`` with ``code`` leads to: ``"terminal"`` or ``"retry"``."""
    if code in REFUSALS["terminal"]:
        return "terminal"
    if code in REFUSALS["retry"]:
        return "retry"
    return REFUSALS["unknown"]


def shutdown_delay_ms(notice: Any, u: float | None = None) -> float | None:
    """How long after a shutdown ``notice`` no reconnect is attempted (None: the notice names no delay).

    ``u`` in [0, 1) picks the spread.
    """
    value = notice.get(SHUTDOWN["delay_field"]) if isinstance(notice, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    u = random.random() if u is None else u
    return min(float(value), SHUTDOWN["max_delay_ms"]) * (1 + SHUTDOWN["spread"] * u)


def refusal_code(data: Any) -> tuple[str | None, str]:
    """The code (None for a failure without one: the server is unreachable) and message of a ``connect_error``."""
    detail = data.get("data") if isinstance(data, dict) and "data" in data else data
    if isinstance(detail, dict):
        code = detail.get("code")
        return (code if isinstance(code, str) and code else None), str(detail.get("message", ""))
    return None, str(data or "")
