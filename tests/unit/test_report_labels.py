"""The report's label file: both languages complete, shipped as package data."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sio_server.web.report import _labels, labels_for

ROOT = Path(__file__).resolve().parents[2]


def test_both_languages_have_every_label():
    labels = _labels()
    assert set(labels) == {"en", "ko"}
    assert set(labels["en"]) == set(labels["ko"])
    assert labels_for("xx").table is labels["en"]  # an unknown language reads English


def test_report_labels_are_declared_as_package_data():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    base = ROOT / "sio_server" / "web"
    shipped = {p for pattern in package_data["sio_server.web"] for p in base.glob(pattern)}
    assert set(base.rglob("*.json")) <= shipped and shipped
