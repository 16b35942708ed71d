"""Typed keys of the aiohttp application's state."""

from __future__ import annotations

from collections.abc import Callable

import socketio
from aiohttp import web

from .interview.service import InterviewService
from .net.client_address import ClientAddress
from .observability.metrics import Metrics
from .settings import Settings
from .store.base import SessionStore

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", SessionStore)
SERVICE = web.AppKey("service", InterviewService)
SIO = web.AppKey("sio", socketio.AsyncServer)
# Whether the Redis client manager's listener is subscribed right now (always True without Redis).
LISTENER_READY = web.AppKey("listener_ready", Callable[[], bool])
CLIENT_ADDRESSES = web.AppKey("client_addresses", ClientAddress)  # key(request): what per-client limits count
