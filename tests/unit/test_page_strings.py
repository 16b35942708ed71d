"""The page's strings are data: one JSON file per language under static/languages/, the same keys and
placeholders in each, every key the page asks for present, no string table back in the page's code, and
the files served like the page's modules."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from aiohttp import web

from sio_server.web import security_headers
from sio_server.web.pages import STATIC_DIR, add_static

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE_DIR = STATIC_DIR / "languages"
MODULES = sorted(STATIC_DIR.glob("*.js"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEY = re.compile(r"[a-z_]+(?:\.[a-z0-9_]+)*")
REGEX_LITERAL = re.compile(r"/(?:\\.|\[(?:\\.|[^\]])*\]|[^/\\\n])+/[a-z]*")
HANGUL = re.compile("[\uac00-\ud7a3]")


def languages() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text("utf-8")) for path in sorted(LANGUAGE_DIR.glob("*.json"))}


def tokens(source: str) -> list[tuple[str, int]]:
    """The string literals of a JS module (quoted strings and the text parts of template literals, the strings
    inside ``${...}`` too) with their offsets; comments and regex literals skipped."""
    found: list[tuple[str, int]] = []
    depths: list[int] = []  # for each open ``${``: the depth of the braces inside it
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c == "/" and re.search(r"(^|[(,=:[!&|?{};]|return)\s*$", source[:i]):
            i = REGEX_LITERAL.match(source, i).end()
        elif c in "\"'`" or (c == "}" and depths and depths[-1] == 0):
            closing = "`" if c in "`}" else c
            if c == "}":
                depths.pop()
            j, text = i + 1, []
            while source[j] != closing and not (closing == "`" and source.startswith("${", j)):
                text.append(source[j : j + 2] if source[j] == "\\" else source[j])
                j += 2 if source[j] == "\\" else 1
            found.append(("".join(text), i))
            if source[j] == closing:
                i = j + 1
            else:
                depths.append(0)
                i = j + 2
        else:
            if depths and c in "{}":
                depths[-1] += 1 if c == "{" else -1
            i += 1
    return found


def first_argument_literals(source: str, call: str) -> list[str]:
    """The string literals in the first argument of every ``call(`` (both arms of a ternary included; not the
    operand of a comparison)."""
    literals = tokens(source)
    found = []
    for match in re.finditer(rf"(?<![\w.$]){call}\(", source):
        depth, end = 0, match.end()
        while depth or source[end] not in ",)":
            depth += {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}.get(source[end], 0)
            end += 1
        found += [text for text, at in literals if match.end() <= at < end and not re.search(r"[=!]=\s*$", source[:at])]
    return found


def test_every_language_file_has_the_same_keys_and_placeholders():
    files = languages()
    assert set(files) == {"en", "ko"}
    english = files["en"]
    for lang, data in files.items():
        assert data["language"] == lang
        assert set(data) == {"language", "labels", "codes"}
        for table in ("labels", "codes"):
            assert set(data[table]) == set(english[table]), (lang, table, set(data[table]) ^ set(english[table]))
            for key, text in data[table].items():
                assert isinstance(text, str) and text.strip(), (lang, key)
                assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[table][key])), (lang, key)


def test_every_key_the_page_asks_for_is_in_every_language():
    labels = set(languages()["en"]["labels"])  # the same in every language (the test above)
    used: dict[str, str] = {}
    html = (STATIC_DIR / "index.html").read_text("utf-8")
    used |= {key: "index.html" for key in re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', html)}
    namespaces = {key.split(".")[0] for key in labels if "." in key}
    prefixes = []
    for module in MODULES:
        source = module.read_text("utf-8")
        for call in ("label", "translate"):
            used |= {key: module.name for key in first_argument_literals(source, call) if KEY.fullmatch(key)}
        prefixes += [(p, module.name) for p in re.findall(r"(?<![\w.$])label\(`([a-z_.]+)\$\{", source)]
        if module.name != "storage.js":  # storage.js's dotted names are localStorage keys, not strings
            # A dotted name in a label namespace, kept in a variable or a table before it is looked up.
            for text, _ in tokens(source):
                if re.fullmatch(r"[a-z_]+(?:\.[a-z0-9_]+)+", text) and text.split(".")[0] in namespaces:
                    used.setdefault(text, module.name)
    assert len(used) > 100, "the page's keys were not found: has the way the page asks for a string changed?"
    assert not {key: where for key, where in used.items() if key not in labels}
    for prefix, where in prefixes:
        assert any(key.startswith(prefix) for key in labels), (where, prefix)


def test_the_page_strings_are_data_not_code():
    values = {text for data in languages().values() for table in ("labels", "codes") for text in data[table].values()}
    sentences = {text for text in values if " " in text or HANGUL.search(text)}
    for module in MODULES:
        for text, _ in tokens(module.read_text("utf-8")):
            assert not HANGUL.search(text), (module.name, text)
            assert text not in sentences, (module.name, text)
    i18n = [text for text, _ in tokens((STATIC_DIR / "i18n.js").read_text("utf-8"))]
    words = [text for text in i18n if re.search(r"[^\W\d_]", text)]  # "{" and "}" of the formatter are no words
    assert all(text.startswith("/static/languages/") or text == "json" or KEY.fullmatch(text) for text in words), words


def test_language_files_ship_with_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    shipped = {p for pattern in package_data["sio_server"] for p in (ROOT / "sio_server").glob(pattern)}
    assert set(LANGUAGE_DIR.glob("*.json")) <= shipped and shipped


async def test_language_files_are_served_like_the_page_modules(aiohttp_client):
    app = web.Application()
    add_static(app)
    security_headers.install(app)
    client = await aiohttp_client(app)
    module = await client.get("/static/i18n.js")
    assert module.status == 200
    for lang in languages():
        r = await client.get(f"/static/languages/{lang}.json")
        assert r.status == 200 and r.content_type == "application/json"
        assert (await r.json())["language"] == lang
        for name in ("Cache-Control", "Content-Security-Policy", "X-Content-Type-Options"):
            assert r.headers.get(name) == module.headers.get(name), name
        assert "connect-src 'self'" in r.headers["Content-Security-Policy"]  # how a JSON module is fetched
    for path in ("/static/languages/xx.json", "/static/languages/en.js", "/static/languages/%2e%2e%2fi18n.json"):
        assert (await client.get(path)).status == 404, path
