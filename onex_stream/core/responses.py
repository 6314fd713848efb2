"""Builders of response and error envelopes (new id, echoed correlation, causation)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from onex_stream.core.clock import Clock, IdFactory, random_ids, system_clock
from onex_stream.core.envelope import ENVELOPE_VERSION, ModelErrorInfo, ModelOnexEnvelope
from onex_stream.core.errors import OnexError


def error_info(error: OnexError) -> ModelErrorInfo:
    """The wire form of an error: code, message, context, no stack trace."""
    return ModelErrorInfo(
        code=error.code.value,
        message=error.message,
        handler_type=error.handler_type,
        operation=error.operation,
        details=error.details or None,
    )


def without_payload(response: ModelOnexEnvelope, error: OnexError) -> ModelOnexEnvelope:
    """The same response with its payload dropped and ``error`` reported instead
    (for an answer that cannot be delivered as it is, e.g. too large)."""
    return response.model_copy(
        update={"payload": None, "success": False, "error": error_info(error)}
    )


class ResponseFactory:
    """Builds responses with injectable ids and clock.

    A response gets a new ``envelope_id``, echoes the request's ``correlation_id``,
    sets ``causation_id`` to the request's ``envelope_id``, addresses the request's
    source node and keeps ``metadata.original_target_node``.
    """

    def __init__(self, ids: IdFactory = random_ids, clock: Clock = system_clock) -> None:
        self.ids = ids
        self.clock = clock

    def success(
        self, request: ModelOnexEnvelope, payload: dict[str, Any] | None, *, source_node: str
    ) -> ModelOnexEnvelope:
        """A ``success=true`` response carrying ``payload``."""
        return self._reply(request, source_node, success=True, payload=payload, error=None)

    def failure(
        self, request: ModelOnexEnvelope, error: OnexError, *, source_node: str
    ) -> ModelOnexEnvelope:
        """A ``success=false`` response carrying the error's code and context."""
        return self._reply(request, source_node, success=False, payload=None, error=error)

    def failure_for_undecoded(
        self,
        error: OnexError,
        *,
        source_node: str,
        correlation_id: UUID,
        causation_id: UUID | None,
    ) -> ModelOnexEnvelope:
        """An error response to input that could not be decoded as an envelope."""
        return ModelOnexEnvelope(
            envelope_id=self.ids(),
            correlation_id=correlation_id,
            causation_id=causation_id,
            source_node=source_node,
            timestamp=self.clock(),
            is_response=True,
            success=False,
            error=error_info(error),
        )

    def _reply(
        self,
        request: ModelOnexEnvelope,
        source_node: str,
        *,
        success: bool,
        payload: dict[str, Any] | None,
        error: OnexError | None,
    ) -> ModelOnexEnvelope:
        return ModelOnexEnvelope.from_valid_fields(
            envelope_id=self.ids(),
            envelope_version=ENVELOPE_VERSION,
            correlation_id=request.correlation_id,
            causation_id=request.envelope_id,
            source_node=source_node,
            target_node=request.source_node,
            handler_type=request.handler_type,
            operation=request.operation,
            payload=payload,
            metadata={"original_target_node": request.target_node},
            timestamp=self.clock(),
            ttl_seconds=None,
            is_response=True,
            success=success,
            error=error_info(error) if error is not None else None,
        )
