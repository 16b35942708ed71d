"""Chromium (Python Playwright, sync API) driving the real page against a real server process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from sio_server.devtools.browser import fake_mic
from sio_server.devtools.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from sio_server.web.pages import socketio_bundle
from tests.support.services import need


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.services)


@contextlib.contextmanager
def start_playwright() -> Iterator[object]:
    """Playwright's sync API, once Chromium and the socket.io bundle are known to be there (else skip or fail in CI)."""
    need("Chromium", os.path.exists(CHROMIUM))
    need("socket.io-client bundle (npm ci)", socketio_bundle() is not None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        need("Python Playwright (pip install playwright)", False)
        raise
    with sync_playwright() as p:
        yield p


def launch_chromium(extra_args: list[str] | None = None) -> Iterator[object]:
    """Headless Chromium with ``CHROMIUM_ARGS`` plus ``extra_args``."""
    with start_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *(extra_args or [])])
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, **options: object) -> Iterator[object]:
    """A fresh browser context (own sessionStorage) at desktop size (``options``: more context options, e.g.
    ``timezone_id``); fails the test on a page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module."""
    yield from launch_chromium()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh page of ``browser`` (see :func:`new_page`)."""
    yield from new_page(browser)


def spoken_page(wav_path, *parts: bytes) -> Iterator[object]:
    """A page of a fresh Chromium whose fake microphone plays ``parts`` (written to ``wav_path``)."""
    need("espeak-ng", fake_mic.espeak_available())
    for browser in launch_chromium(fake_mic.chromium_args(fake_mic.write(wav_path, *parts))):
        yield from new_page(browser)
