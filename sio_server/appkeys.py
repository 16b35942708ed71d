"""Typed keys of the aiohttp application's state."""

from __future__ import annotations

import socketio
from aiohttp import web

from .interview.service import InterviewService
from .observability.metrics import Metrics
from .settings import Settings
from .store.base import SessionStore
from .transport.namespace import InterviewNamespace
from .web.client_address import ClientAddress

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", SessionStore)
SERVICE = web.AppKey("service", InterviewService)
SIO = web.AppKey("sio", socketio.AsyncServer)
NAMESPACE_HANDLERS = web.AppKey("namespace", InterviewNamespace)
CLIENT_ADDRESSES = web.AppKey("client_addresses", ClientAddress)  # key(request): what per-client limits count
