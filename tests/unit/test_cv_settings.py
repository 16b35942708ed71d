"""The CV upload settings: ``CV_*`` variables, their earlier ``RESUME_*`` names still read (issue 22, item 6)."""

from __future__ import annotations

import pytest

from sio_server.settings import Settings

CV_FIELDS = [name for name in Settings.model_fields if name.startswith("cv_")]


def test_every_cv_setting_keeps_its_resume_name():
    assert len(CV_FIELDS) == 10, CV_FIELDS
    for name in CV_FIELDS:
        choices = Settings.model_fields[name].validation_alias.choices
        assert choices[:2] == [name.upper(), "RESUME_" + name.removeprefix("cv_").upper()], (name, choices)


@pytest.mark.parametrize("variable", ["CV_MAX_BYTES", "RESUME_MAX_BYTES", "cv_max_bytes"])
def test_either_environment_name_sets_the_value(monkeypatch: pytest.MonkeyPatch, variable: str):
    monkeypatch.setenv(variable, "65536")
    assert Settings(_env_file=None).cv_max_bytes == 65536


def test_the_cv_name_wins_over_the_resume_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RESUME_BODY_TIMEOUT", "3")
    monkeypatch.setenv("CV_BODY_TIMEOUT", "4")
    assert Settings(_env_file=None).cv_body_timeout == 4


def test_a_dotenv_line_with_the_resume_name_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RESUME_UPLOADS_IN_FLIGHT", raising=False)
    monkeypatch.delenv("CV_UPLOADS_IN_FLIGHT", raising=False)
    env = tmp_path / ".env"
    env.write_text("RESUME_UPLOADS_IN_FLIGHT=3\n")
    assert Settings(_env_file=env).cv_uploads_in_flight == 3


@pytest.mark.parametrize("given", [{"cv_parse_wait": 2.5}, {"resume_parse_wait": 2.5}, {"RESUME_PARSE_WAIT": 2.5}])
def test_settings_given_by_either_name_in_code(given: dict[str, float]):
    settings = Settings(_env_file=None, **given)
    assert settings.cv_parse_wait == 2.5 and not settings.model_extra, "an old name must not become a vendor extra"
