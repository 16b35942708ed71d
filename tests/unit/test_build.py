"""The service is built in dependency order: no part is handed a lambda over an attribute set later."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from sio_server.interview import build, service
from sio_server.interview.build import ServicePolicy, build_service
from sio_server.store.files import FileSessionStore
from sio_server.vendors.fallback import FallbackLLM
from sio_server.vendors.offline_llm import OfflineLLM


class NoEmitter:
    async def emit(self, session_id: str, event: str, data: dict) -> None:
        return None


def lambdas_in(function) -> list[int]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Lambda)]


def test_the_builder_and_the_constructor_hand_no_lambda_to_a_part():
    assert lambdas_in(build.build_service) == []
    assert lambdas_in(service.InterviewService.__init__) == []


async def test_the_parts_are_wired_to_each_other_and_the_registry_takes_one_handler(tmp_path):
    store = FileSessionStore(tmp_path / "data")
    await store.open()
    made = build_service(store, FallbackLLM([OfflineLLM()]), NoEmitter(), ServicePolicy(store_retry_delay=0.01))
    assert made.voice.sessions is made.registry and made.steps.registry is made.registry
    assert made.answers.steps is made.steps and made.voice.answer == made.answers.record
    with pytest.raises(RuntimeError):
        made.registry.handle_with(made.registry.handler)
    await made.close()
