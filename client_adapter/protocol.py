"""The client protocol's shared rules, from ``protocol.json`` (which ``interview-client.js`` loads too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROTOCOL: dict[str, Any] = json.loads(Path(__file__).with_name("protocol.json").read_text(encoding="utf-8"))
NAMESPACE: str = PROTOCOL["namespace"]
RETRYABLE_CODES = frozenset(PROTOCOL["retryable_codes"])
REJECTED_CODES = frozenset(PROTOCOL["rejected_codes"])
SUPERSEDED: str = PROTOCOL["superseded_code"]
TERMINAL_STATES = frozenset(PROTOCOL["terminal_states"])
