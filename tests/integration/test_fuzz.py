"""Property-based fuzzing of every client event and every HTTP route of one live in-process server.

The server (``create_app``) runs on a real port from a background event loop;
the hypothesis tests are plain sync tests that submit coroutines to it. For
every generated input:

* no exception escapes a handler: no ERROR record is logged and the loop's
  exception handler sees nothing (malformed HTTP that aiohttp's own parser
  refuses before any route runs is counted apart);
* every ack is ``{ok: true, …}`` (only for a payload the protocol model accepts)
  or ``{ok: false, error: {code, message}}`` with a documented code; every HTTP
  error is ``{"error": {code, message}}`` with a documented code and never a 500;
* a rejected input leaves the session files byte-for-byte unchanged;
* ``/healthz`` stays 200.

The explicit tests at the end pin the bugs the fuzzing found.
"""

from __future__ import annotations

import asyncio
import json
import os
import string
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import BaseModel

from sio_server.appkeys import METRICS
from sio_server.settings import Settings
from sio_server.transport.protocol import AnswerEnd, AnswerText, EndInterview, StartInterview
from tests.support.fuzzclients import NS, FuzzSocket, Raw, documented_codes
from tests.support.fuzzserver import LoopServer, raw_http
from tests.support.server import ADMIN_TOKEN

pytestmark = pytest.mark.integration

ADMIN = ADMIN_TOKEN
CODES = documented_codes()
FUZZ = hsettings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "250")),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=True,
)
STATS: Counter[str] = Counter()
MODELS: dict[str, type[BaseModel]] = {
    "start_interview": StartInterview,
    "answer_text": AnswerText,
    "answer_end": AnswerEnd,
    "end_interview": EndInterview,
}


# -- the server ------------------------------------------------------------------------


class Harness:
    """The live server plus the sockets the socket fuzzer drives."""

    def __init__(self, server: LoopServer) -> None:
        self.server = server
        self.free: FuzzSocket | None = None  # never bound to a session
        self.bound: FuzzSocket | None = None  # bound to an active interview
        self.bound_token: str | None = None
        self.sessions: list[tuple[str, str]] = []  # (session_id, resume_token) of every session started
        self.parser_errors_seen = 0

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return self.server.run(coro, timeout)

    async def _socket(self) -> FuzzSocket:
        return await FuzzSocket(self.server.url).connect()

    async def _bind(self) -> None:
        """Give the ``bound`` socket an active interview (a new one when the old one ended)."""
        if self.bound is None or not self.bound.connected:
            if self.bound is not None:
                await self.bound.close()
            self.bound = await self._socket()
        ack = await self.bound.call("start_interview", ({"mode": "text", "max_questions": 20, "language": "en"},))
        if ack.get("ok"):
            self.sessions.append((ack["session_id"], ack["resume_token"]))
            self.bound_token = ack["resume_token"]
        else:
            assert ack["error"]["code"] == "already_in_session", ack

    def ready(self, target: str) -> FuzzSocket:
        """The socket for ``target``, connected (and bound to an active interview for ``bound``)."""

        async def prepare() -> FuzzSocket:
            if target == "free":
                if self.free is None or not self.free.connected:
                    self.free = await self._socket()
                return self.free
            await self._bind()
            assert self.bound is not None
            return self.bound

        sock = self.run(prepare())
        self.server.quiesce()
        return sock

    def new_errors(self, before: int) -> list[str]:
        """ERROR records since ``before`` that are not aiohttp's own refusals of unparsable HTTP."""
        return [e for e in self.server.errors()[before:] if not _is_http_parser_error(e)]

    def healthy(self) -> None:
        status, _, body = raw_http(self.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and json.loads(body) == {"status": "ok"}, (status, body)


def _is_http_parser_error(text: str) -> bool:
    return text.startswith("ERROR aiohttp.server: Error handling request") and "aiohttp.http_exceptions." in text


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("fuzz") / "data"
    settings = Settings(
        _env_file=None,
        data_dir=str(data),
        admin_token=ADMIN,
        sweep_interval=3600,
        rate_events_per_second=1_000_000,
        rate_audio_bytes_per_second=1e12,
        sessions_per_client_per_minute=1_000_000,
        max_sockets_per_client=10_000,
        admin_failures_per_minute=1_000_000,  # wrong tokens are drawn all the time: keep reaching the routes
        max_stored_sessions_per_client=1_000_000,
    )
    server = LoopServer(settings).start()
    h = Harness(server)
    started = time.monotonic()
    yield h
    try:
        for sock in (h.free, h.bound):
            if sock is not None:
                h.run(sock.close())
    finally:
        server.stop()
    print(f"\nfuzz totals: {dict(STATS)} in {time.monotonic() - started:.1f}s")


# -- strategies ------------------------------------------------------------------------

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)  # lone surrogates, NUL, …
huge_text = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from(["x", "한", " ", "\x00", "\U0001f600", "\ud800"]),
    st.sampled_from([199, 200, 201, 4999, 5000, 5001, 19_999, 20_000, 20_001, 120_000]),
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
    st.binary(max_size=64),
)
json_value = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
deep_value = st.integers(min_value=1, max_value=200).map(lambda d: _nest(d))
junk = st.one_of(json_value, huge_text, deep_value)


def _nest(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, valid, junk)


start_payload = st.fixed_dictionaries(
    {},
    optional={
        "language": _maybe(st.sampled_from(["ko", "en", "KO", "fr", ""])),
        "mode": _maybe(st.sampled_from(["text", "voice", "video"])),
        "persona": _maybe(st.sampled_from(["professional", "friendly", "challenging", "rude"])),
        "job_title": _maybe(any_text | huge_text),
        "job_description": _maybe(any_text | huge_text),
        "resume_text": _maybe(any_text | huge_text),
        "max_questions": _maybe(st.integers(min_value=-2, max_value=22)),
        "audio_format": _maybe(st.sampled_from(["webm", "linear16", "mp3"])),
        "extra": json_value,
    },
)
answer_payload = st.fixed_dictionaries(
    {},
    optional={
        "index": _maybe(st.integers(min_value=-1, max_value=22) | st.sampled_from([1, 2, 3])),
        "text": _maybe(any_text | huge_text | st.just("A fine answer.")),
        "seq": json_value,
    },
)
end_payload = st.fixed_dictionaries({}, optional={"index": _maybe(st.integers(min_value=-1, max_value=22)), "x": json_value})
payload_for = {
    "start_interview": start_payload,
    "answer_text": st.one_of(
        answer_payload, st.fixed_dictionaries({"index": st.integers(1, 4), "text": st.sampled_from(["A fine answer.", " ", "x"])})
    ),
    "answer_end": end_payload,
    "end_interview": st.one_of(st.just({}), end_payload),
    "audio_chunk": st.one_of(st.binary(max_size=2048), st.binary(min_size=65_530, max_size=65_540), junk),
}
unknown_event = st.one_of(
    st.sampled_from(["connect", "disconnect", "message", "*", "connect_error", "START_INTERVIEW", "answer_text ", ""]),
    st.text(alphabet=string.ascii_letters + "_-:. ", min_size=1, max_size=20),
).filter(lambda e: e not in payload_for)


@st.composite
def socket_inputs(draw: st.DrawFn) -> tuple[str, str, tuple[Any, ...]]:
    event = draw(st.sampled_from(sorted(payload_for)) if draw(st.integers(0, 4)) else unknown_event)
    strategy = payload_for.get(event, junk)
    shape = draw(st.sampled_from(["one", "one", "one", "one", "none", "two", "raw"]))
    if shape == "none":
        args: tuple[Any, ...] = ()
    elif shape == "two":
        args = (draw(strategy), draw(junk))
    elif shape == "raw":  # JSON text python-socketio would not write (NaN, duplicate keys, escapes)
        args = (Raw(draw(st.sampled_from(['{"index":1,"index":2,"text":"a"}', '{"index":NaN}', '{"text":"\\u0000"}',
                                          '{"index":1e400,"text":"a"}', '{"index":-0,"text":" "}', '[]', '""', '0']))),)
    else:
        args = (draw(strategy),)
    return draw(st.sampled_from(["free", "bound"])), event, args


def _valid(event: str, args: tuple[Any, ...]) -> bool:
    """Whether the protocol model accepts this payload (the oracle for ``ok: true``)."""
    model = MODELS.get(event)
    if model is None or len(args) > 1:
        return False
    payload = args[0] if args else {}
    if isinstance(payload, Raw):
        payload = json.loads(payload)  # as the server reads it (a repeated key: the last one wins)
    payload = {} if payload is None else payload
    if not isinstance(payload, dict):
        return False
    try:
        model.model_validate(payload)
    except Exception:
        return False
    return True


def _encoded_size(event: str, args: tuple[Any, ...]) -> int:
    """Roughly the bytes of the Socket.IO text packet (binary parts travel as separate packets)."""
    parts = [json.dumps(event)] + [
        a if isinstance(a, Raw) else json.dumps(a, default=lambda o: {"_placeholder": True, "num": 0}) for a in args
    ]
    return len(",".join(parts)) + 8


def _attachments(value: Any) -> int:
    """How many binary attachments python-socketio makes of ``value``."""
    if isinstance(value, (bytes, bytearray)):
        return 1
    if isinstance(value, (list, tuple)):
        return sum(_attachments(v) for v in value)
    if isinstance(value, dict):
        return sum(_attachments(v) for v in value.values())
    return 0


def _check_error(obj: Any, where: str) -> str:
    assert isinstance(obj, dict) and set(obj) == {"code", "message"}, f"{where}: malformed error {obj!r}"
    assert isinstance(obj["code"], str) and isinstance(obj["message"], str), f"{where}: {obj!r}"
    assert obj["code"] in CODES, f"{where}: undocumented error code {obj['code']!r}"
    assert obj["code"] != "internal_error", f"{where}: internal_error"
    return obj["code"]


# -- socket events ---------------------------------------------------------------------


@FUZZ
@given(inp=socket_inputs())
def test_socket_events_fuzz(harness: Harness, inp: tuple[str, str, tuple[Any, ...]]) -> None:
    target, event, args = inp
    sock = harness.ready(target)
    server = harness.server
    errors_before = len(server.errors())
    events_before = len(sock.events)
    before = server.snapshot()
    STATS["socket inputs"] += 1
    where = f"{event}{args!r:.300} on the {target} socket"

    if _encoded_size(event, args) > server.settings.max_message_bytes or _attachments(args) > server.settings.max_attachments:
        # Documented: a message above MAX_MESSAGE_BYTES, or with more binary parts than MAX_ATTACHMENTS,
        # closes the connection (and changes nothing).
        async def oversized() -> bool:
            await sock.emit(event, args)
            for _ in range(300):
                if not sock.connected:
                    return True
                await asyncio.sleep(0.01)
            return False

        closed = harness.run(oversized())
        server.quiesce()
        assert closed, f"{where}: a message above MAX_MESSAGE_BYTES did not close the connection"
        assert not harness.new_errors(errors_before), f"{where}: " + "\n".join(harness.new_errors(errors_before))
        assert server.snapshot() == before, f"{where}: an oversized message changed the store"
        harness.healthy()
        STATS["oversized or many-part messages (connection closed)"] += 1
        return

    async def send() -> Any:
        if event == "audio_chunk":
            await sock.emit(event, args)  # the one event without an ack
            return await sock.call("__sync__", ())  # processed after it; its own ack is unknown_event
        return await sock.call(event, args)

    ack = harness.run(send(), timeout=20)
    server.quiesce()
    assert not harness.new_errors(errors_before), f"{where}: " + "\n".join(harness.new_errors(errors_before))
    assert sock.connected, f"{where}: the server dropped the connection"
    if event == "audio_chunk":
        assert ack["error"]["code"] == "unknown_event"
        for name, data in sock.events[events_before:]:
            if name in ("error", "warning"):
                _check_error(data, where)
                STATS[f"audio {data['code']}"] += 1
        STATS["audio_chunk"] += 1
        return
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), f"{where}: ack {ack!r}"
    if ack["ok"]:
        assert _valid(event, args), f"{where}: accepted an invalid payload: {ack!r}"
        STATS["accepted"] += 1
        if event == "start_interview":
            assert {"session_id", "resume_token", "mode"} <= set(ack), ack
            harness.sessions.append((ack["session_id"], ack["resume_token"]))
            if target == "free":  # that socket is bound now: use a fresh one from here on
                harness.run(sock.close())
                harness.free = None
        return
    assert set(ack) == {"ok", "error"}, f"{where}: {ack!r}"
    code = _check_error(ack["error"], where)
    STATS[f"rejected {code}"] += 1
    after = server.snapshot()
    assert after == before, f"{where}: rejected with {code} but the store changed: {set(after) ^ set(before) or 'contents'}"
    if STATS["socket inputs"] % 50 == 0:
        harness.healthy()


# -- the handshake ---------------------------------------------------------------------


auth_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text, huge_text.filter(lambda t: len(t) <= 20_001)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)  # no bytes: a CONNECT packet cannot carry binary, the client refuses to send it
auth_value = st.one_of(
    # A top-level number is left out: python-socketio writes it right after the namespace, where it reads as an ack id.
    auth_junk.filter(lambda v: not isinstance(v, (int, float)) or isinstance(v, bool)),
    st.fixed_dictionaries(
        {},
        optional={
            "resume_token": st.one_of(auth_junk, st.builds(lambda: f"{uuid.uuid4()}.{uuid.uuid4().hex}"), st.just("known")),
            "last_seq": st.one_of(st.integers(min_value=-5, max_value=10**20), auth_junk),
        },
    ),
)


@hsettings(FUZZ, max_examples=max(20, FUZZ.max_examples // 4))
@given(auth=auth_value)
def test_handshake_auth_fuzz(harness: Harness, auth: Any) -> None:
    server = harness.server
    if isinstance(auth, dict) and auth.get("resume_token") == "known" and harness.sessions:
        auth = {**auth, "resume_token": harness.sessions[-1][1]}
    errors_before = len(server.errors())
    before = server.snapshot()
    STATS["handshakes"] += 1

    async def attempt() -> tuple[bool, Any]:
        sock = FuzzSocket(server.url)
        failure: list[Any] = []
        sock.sio.on("connect_error", lambda data=None: failure.append(data), namespace=NS)
        try:
            await sock.connect(auth=auth)
            return True, None
        except Exception as exc:  # socketio.exceptions.ConnectionError
            return False, failure[0] if failure else repr(exc)
        finally:
            await sock.close()

    connected, failure = harness.run(attempt())
    server.quiesce()
    assert not harness.new_errors(errors_before), "\n".join(harness.new_errors(errors_before))
    if connected:
        STATS["handshakes accepted"] += 1
        return
    assert isinstance(failure, dict) and isinstance(failure.get("data"), dict), f"auth {auth!r:.200}: {failure!r}"
    code = _check_error(failure["data"], f"auth {auth!r:.200}")
    assert failure.get("message") == code
    STATS[f"handshake {code}"] += 1
    if code in ("invalid_payload", "resume_rejected"):
        assert server.snapshot() == before


# -- HTTP routes ----------------------------------------------------------------------

ROUTES = [
    "/healthz", "/readyz", "/metrics", "/api/v1/sessions", "/api/v1/sessions/{id}", "/api/v1/sessions/{id}/feedback",
    "/api/v1/sessions/{id}/end", "/api/v1/maintenance/cleanup", "/", "/static/{junk}", "/client/{junk}",
    "/vendor/socket.io.min.js", "/{junk}", "/api/v1/{junk}", "/api/v1/sessions/{id}/{junk}",
]
raw_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
header_bytes = st.binary(max_size=40).map(lambda b: bytes(x for x in b if x >= 0x20 and x != 0x7F))  # obs-text included
percent = raw_bytes.map(lambda b: "".join(f"%{x:02X}" for x in b).encode())
path_part = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", max_size=30).map(str.encode),
    any_text.map(lambda t: "".join(f"%{b:02X}" for b in t.encode("utf-8", "surrogatepass")).encode()),
    percent,
    percent,
    st.sampled_from([b"..", b"%2e%2e", b"%2F..%2F", b"A" * 5000, b"%00", b"../../etc/passwd", b"%ED%A0%80", b"%FF"]),
    raw_bytes.filter(lambda b: len(b) < 4),  # mostly refused by aiohttp's parser: kept rare
)


@st.composite
def http_requests(draw: st.DrawFn, sessions: list[tuple[str, str]]) -> tuple[bytes, bytes]:
    method = draw(st.sampled_from([b"GET"] * 4 + [b"POST"] * 3 + [b"DELETE"] * 2 + [b"PUT", b"PATCH", b"HEAD", b"OPTIONS", b"get", b"FOO"]))
    known = sessions[draw(st.integers(0, len(sessions) - 1))] if sessions else (str(uuid.uuid4()), "x.y")
    sid = draw(
        st.one_of(
            st.just(known[0].encode()),
            st.builds(lambda: str(uuid.uuid4()).encode()),
            st.just(known[0].upper().encode()),
            path_part,
        )
    )
    template = draw(st.sampled_from(ROUTES))
    path = template.encode().replace(b"{id}", sid).replace(b"{junk}", draw(path_part))
    query = draw(
        st.lists(
            st.tuples(st.sampled_from([b"status", b"limit", b"x"]) | percent,
                      st.sampled_from([b"active", b"ended", b"0", b"1", b"1000", b"1001", b"-1", b"1e3", b"%D9%A1", b"\xd9\xa1"]) | percent),
            max_size=3,
        )
    )
    if query:
        path += b"?" + b"&".join(k + b"=" + v for k, v in query)
    auth = draw(
        st.one_of(
            st.none(),
            st.just(b"Bearer " + ADMIN.encode()),
            st.just(b"Bearer " + known[1].encode()),
            st.just(b"Bearer " + known[0].encode() + b".wrong"),
            header_bytes.map(lambda b: b"Bearer " + b),
            header_bytes.map(lambda b: b"Bearer " + sid + b"." + b),
            header_bytes,
            st.just(b"Basic YWRtaW46YWRtaW4="),
        )
    )
    headers = b""
    if auth is not None:
        headers += b"Authorization: " + auth + b"\r\n"
    if draw(st.booleans()):
        headers += b"Origin: " + draw(st.sampled_from([b"http://evil.example", b"null", b"http://127.0.0.1"]) | header_bytes) + b"\r\n"
        if method == b"OPTIONS" and draw(st.booleans()):
            headers += b"Access-Control-Request-Method: POST\r\n"
    body = draw(
        st.one_of(
            st.just(b""),
            raw_bytes,
            json_value.map(lambda v: json.dumps(v, default=lambda o: o.hex() if isinstance(o, bytes) else str(o)).encode()),
            st.integers(1, 800).map(lambda d: b"[" * d + b"]" * d),
            st.just(b"x" * 600_000),
        )
    )
    if body:
        headers += b"Content-Type: " + draw(st.sampled_from([b"application/json", b"text/plain", b"application/octet-stream"])) + b"\r\n"
    request = method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
    request += b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    return method, request


@FUZZ
@given(data=st.data())
def test_admin_routes_fuzz(harness: Harness, data: st.DataObject) -> None:
    if not harness.sessions:
        harness.ready("bound")
    method, request = data.draw(http_requests(harness.sessions))
    server = harness.server
    errors_before = len(server.errors())
    before = server.snapshot()
    STATS["http requests"] += 1
    where = f"{request[:300]!r}"
    try:
        status, headers, body = raw_http(server.port, request)
    except ConnectionResetError:  # a body the server refused to read: it closed the connection
        status, headers, body = 0, {}, b""
        STATS["http connection closed"] += 1
    server.quiesce()
    assert not harness.new_errors(errors_before), f"{where}: " + "\n".join(harness.new_errors(errors_before))
    assert status == 0 or 200 <= status < 500 or status == 503, f"{where}: status {status} {body[:300]!r}"
    STATS[f"http {status}"] += 1
    if status >= 400:
        if status == 400 and headers.get("content-type", "").startswith("text/plain") and not body.startswith(b"{"):
            # aiohttp's HTTP parser refused the request line or a header before any route or middleware ran
            STATS["http refused by aiohttp's parser"] += 1
        elif request.split(b" ", 2)[1].startswith(b"/static/"):
            # aiohttp's static files answer 404/403 themselves (FileResponse sets the status, no exception
            # reaches the app middleware): an empty or "http_error" body. Not the admin API; counted, not judged.
            STATS["http static-file errors (not JSON)"] += 1
        elif method != b"HEAD":
            try:
                error = json.loads(body)["error"]
            except (ValueError, KeyError, TypeError):
                raise AssertionError(f"{where}: {status} without the JSON error body: {body[:300]!r}") from None
            _check_error(error, where)
        assert server.snapshot() == before, f"{where}: answered {status} but the store changed"
    if STATS["http requests"] % 50 == 0:
        harness.healthy()


def test_still_healthy_after_fuzzing(harness: Harness) -> None:
    harness.healthy()  # ERROR records are judged per input above
    print(f"\nfuzz: {STATS['socket inputs']} socket inputs, {STATS['handshakes']} handshakes, "
          f"{STATS['http requests']} HTTP requests; {len(harness.sessions)} sessions started")


# -- the bugs the fuzzing found ------------------------------------------------------------


def test_client_sent_connect_and_disconnect_events_are_refused_like_unknown_events(harness: Harness) -> None:
    """A client may name an event "disconnect" or "connect": it must not reach ``on_disconnect``/``on_connect``.

    Today "disconnect" unbinds the socket from its interview, drops its rate
    limiter (a rate-limit bypass) and drives ``interview_sockets_connected``
    negative; "connect" runs ``on_connect`` with client-chosen arguments and its
    exception escapes (no ack, "Task exception was never retrieved").
    """
    server = harness.server
    metrics = server.app[METRICS]  # type: ignore[index]

    async def scenario() -> dict[str, Any]:
        sock = await FuzzSocket(server.url).connect()
        start = await sock.call("start_interview", ({"mode": "text", "max_questions": 3},))
        gauge_before = metrics.sockets_connected._value.get()
        out: dict[str, Any] = {"start": start}
        for name, args in (("disconnect", ("client disconnect",)), ("connect", ()), ("connect", ({}, {}))):
            try:
                out[f"{name}{len(args)}"] = await sock.call(name, args, timeout=3)
            except Exception as exc:  # no ack at all
                out[f"{name}{len(args)}"] = repr(exc)
        out["gauge_delta"] = metrics.sockets_connected._value.get() - gauge_before
        question = 1
        out["answer"] = await sock.call("answer_text", ({"index": question, "text": "Still my interview."},))
        await sock.close()
        return out

    errors_before = len(server.errors())
    out = harness.run(scenario(), timeout=30)
    server.quiesce()
    assert out["start"]["ok"], out
    problems = []
    for key in ("disconnect1", "connect0", "connect2"):
        ack = out[key]
        if not (isinstance(ack, dict) and ack.get("ok") is False and ack["error"]["code"] in ("unknown_event", "invalid_payload")):
            problems.append(f"client event {key[:-1]!r} ({key[-1]} args) got {ack!r} instead of an unknown_event ack")
    if out["answer"].get("ok") is not True and out["answer"]["error"]["code"] != "busy":
        problems.append(f"after a client-sent 'disconnect' event the socket lost its interview: {out['answer']!r}")
    if out["gauge_delta"] != 0:
        problems.append(f"interview_sockets_connected moved by {out['gauge_delta']} without any socket coming or going")
    problems += harness.new_errors(errors_before)
    assert not problems, "\n".join(problems)


def test_rate_limit_cannot_be_reset_by_a_client_sent_disconnect_event(tmp_path) -> None:
    settings = Settings(_env_file=None, data_dir=str(tmp_path / "data"), admin_token=ADMIN, sweep_interval=3600,
                        rate_events_per_second=2)
    server = LoopServer(settings).start()
    try:
        async def scenario() -> list[str]:
            sock = await FuzzSocket(server.url).connect()
            codes = []
            for i in range(24):
                ack = await sock.call("no_such_event", ())
                codes.append(ack["error"]["code"])
                if i % 3 == 2:
                    try:
                        await sock.call("disconnect", ("x",), timeout=0.5)
                    except Exception:
                        pass
            await sock.close()
            return codes

        codes = server.run(scenario())
    finally:
        server.stop()
    # 2 events/s with a burst of 4: about 32 events in well under a second must be mostly refused.
    assert codes.count("rate_limited") >= 12, f"rate limit bypassed with client 'disconnect' events: {codes}"


def test_non_utf8_authorization_header_is_401_not_500(harness: Harness) -> None:
    server = harness.server
    errors_before = len(server.errors())
    answers = []
    for path in (b"/api/v1/sessions", f"/api/v1/sessions/{uuid.uuid4()}/feedback".encode()):
        request = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe\r\n\r\n"
        status, _, body = raw_http(server.port, request)
        answers.append((path, status, body[:200]))
    assert all(status == 401 and json.loads(body)["error"]["code"] == "unauthorized" for _, status, body in answers), answers
    assert not harness.new_errors(errors_before), harness.new_errors(errors_before)


def test_deeply_nested_payload_is_acked_invalid_payload(harness: Harness) -> None:
    """A browser's ``JSON.stringify`` writes any depth; python-socketio's decoder raises RecursionError past ~1000."""
    server = harness.server
    errors_before = len(server.errors())

    async def scenario() -> Any:
        sock = await FuzzSocket(server.url).connect()
        try:
            return await sock.call("start_interview", (Raw('{"job_title":' + "[" * 5000 + "]" * 5000 + "}"),), timeout=3)
        except Exception as exc:
            return repr(exc)
        finally:
            await sock.close()

    ack = harness.run(scenario())
    assert isinstance(ack, dict) and ack.get("error", {}).get("code") == "invalid_payload", f"no proper ack: {ack!r}"
    assert not harness.new_errors(errors_before), harness.new_errors(errors_before)
