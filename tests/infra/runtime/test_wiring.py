"""register_handlers_from_config: ``wrap`` decorates each enabled handler given its binding."""

from __future__ import annotations

from onex_stream.core.contracts import ModelHandlerBindingConfig
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.ports import HandlerPort
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime import NodeRuntime
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.runtime.wiring import register_handlers_from_config
from tests.support.deterministic import DeterministicClock, DeterministicIds


class Tagged(HandlerDecorator):
    """A decorator that remembers the binding it was made for."""

    def __init__(self, inner: HandlerPort, binding: ModelHandlerBindingConfig) -> None:
        super().__init__(inner)
        self.binding = binding


def binding(**fields: object) -> ModelHandlerBindingConfig:
    return ModelHandlerBindingConfig.model_validate(fields)


def test_wrap_receives_each_enabled_binding_and_its_validated_config() -> None:
    runtime = NodeRuntime("host", ResponseFactory(DeterministicIds(), DeterministicClock()))
    http = binding(type="http", config={"timeout_ms": 500, "retry_policy": {"max_retries": 2}})
    off = binding(type="db", enabled=False, config={"dsn": "postgresql://db/x"})
    seen: list[tuple[HandlerPort, ModelHandlerBindingConfig]] = []

    def wrap(handler: HandlerPort, given: ModelHandlerBindingConfig) -> HandlerPort:
        seen.append((handler, given))
        return Tagged(handler, given)

    configs = register_handlers_from_config(runtime, [http, off], wrap=wrap)
    assert [(type(handler), given) for handler, given in seen] == [(HttpHandler, http)]
    config = seen[0][1].config
    assert config.timeout_ms == 500
    assert config.retry_policy is not None and config.retry_policy.max_retries == 2
    assert list(configs) == [EnumHandlerType.HTTP]


def test_every_enabled_binding_is_wrapped_once() -> None:
    runtime = NodeRuntime("host", ResponseFactory(DeterministicIds(), DeterministicClock()))
    bindings = [binding(type="http"), binding(type="db", config={"dsn": "postgresql://db/x"})]
    wrapped: list[Tagged] = []

    def wrap(handler: HandlerPort, given: ModelHandlerBindingConfig) -> HandlerPort:
        wrapped.append(Tagged(handler, given))
        return wrapped[-1]

    register_handlers_from_config(runtime, bindings, wrap=wrap)
    assert [type(tagged.inner) for tagged in wrapped] == [HttpHandler, DbHandler]
    assert [tagged.binding for tagged in wrapped] == bindings
