"""Topic names: 000's examples table, reserved tenants, derived topics."""

from __future__ import annotations

import pytest

from onex_stream.core.topics import (
    EnumTopicSignal,
    TopicNameError,
    dead_letter_topic_for,
    event_topic_for,
    parse_topic,
)


@pytest.mark.parametrize(
    "name",
    [
        "onex.acme.orders.cmd.v1",
        "onex.acme.orders.evt.v1",
        "onex.acme.user-service.cmd.v1",
        "onex.acme.user_service.cmd.v1",
        "onex.acme.orders.state.v2",
        "onex.acme.orders.error.v10",
        "onex.acme.orders.log.v1",
    ],
)
def test_valid_topic_names_parse(name: str) -> None:
    assert str(parse_topic(name)) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("onex.ACME.orders.cmd.v1", "lowercase"),
        ("onex.acme.orders.command.v1", "signal 'command'"),
        ("onex.acme.orders.cmd.1", "version segment"),
        ("onex.acme.orders.cmd", "5 segments"),
        ("acme.orders.cmd.v1", "must start with 'onex.'"),
        ("onex..orders.cmd.v1", "empty segment"),
        ("onex.acme.orders.query.v1", "signal 'query'"),
        ("onex.internal.debug.evt.v1", "reserved"),
        ("onex.admin.ops.cmd.v1", "reserved"),
        ("onex.metrics.x.cmd.v1", "reserved"),
        ("onex.health.x.cmd.v1", "reserved"),
        ("onex.debug.x.cmd.v1", "reserved"),
    ],
)
def test_invalid_topic_names_name_the_broken_rule(name: str, reason: str) -> None:
    with pytest.raises(TopicNameError, match=reason):
        parse_topic(name)


def test_event_and_dead_letter_topics_derive_from_the_command_topic() -> None:
    assert event_topic_for("onex.acme.orders.cmd.v1") == "onex.acme.orders.evt.v1"
    assert dead_letter_topic_for("onex.acme.orders.cmd.v1") == "onex.acme.orders.error.v1"
    assert parse_topic("onex.a.b.cmd.v3").with_signal(EnumTopicSignal.LOG).version == 3
