"""Dev/test-only entry points refuse production, whatever the case of ONEX_ENV."""

from __future__ import annotations

import pytest

from onex_stream.cli.dev_only import refuses_prod


@pytest.mark.parametrize("value", ["prod", "PROD", "Prod"])
def test_prod_is_refused_in_any_case(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEX_ENV", value)
    assert refuses_prod("the demo") is True
    assert "the demo is dev/test only" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["dev", "TEST"])
def test_dev_and_test_are_allowed(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEX_ENV", value)
    assert refuses_prod("the demo") is False


def test_an_unset_environment_defaults_to_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEX_ENV", raising=False)
    assert refuses_prod("the demo") is False


def test_an_unknown_environment_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEX_ENV", "staging")
    assert refuses_prod("the demo") is True
    assert "is not one of dev, test, prod" in capsys.readouterr().err
