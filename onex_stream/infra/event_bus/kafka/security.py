"""Kafka credentials from a contract's ``event_bus.config.security`` (secrets by reference)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka.helpers import create_ssl_context
from faust.types.auth import CredentialsT

from onex_stream.core.contracts import ModelKafkaSecurity
from onex_stream.core.errors import SecretResolutionError
from onex_stream.infra.secrets import SecretResolver


def resolve_password(reference: str, env: Mapping[str, str]) -> str:
    """The secret behind ``env:NAME`` (from ``env``); fails naming the reference, never the
    value. file: and vault: references are refused for Kafka."""
    scheme = reference.partition(":")[0]
    if scheme in ("file", "vault"):
        raise SecretResolutionError(
            f"Kafka credentials support env:NAME references only, not {scheme}:",
            details={"reference": reference},
        )
    return SecretResolver(env).resolve(reference)


def faust_credentials(security: ModelKafkaSecurity, env: Mapping[str, str]) -> CredentialsT | None:
    """Faust's ``broker_credentials`` for the security section (None for PLAINTEXT)."""
    context = _ssl_context(security)
    if security.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=security.username,
            password=resolve_password(security.password_ref or "", env),
            mechanism=security.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None


def aiokafka_auth(security: ModelKafkaSecurity, env: Mapping[str, str]) -> dict[str, Any]:
    """The same credentials as keyword arguments of aiokafka clients."""
    auth: dict[str, Any] = {
        "security_protocol": security.protocol,
        "ssl_context": _ssl_context(security),
    }
    if security.protocol.startswith("SASL"):
        auth.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.username,
            sasl_plain_password=resolve_password(security.password_ref or "", env),
        )
    return auth


def _ssl_context(security: ModelKafkaSecurity) -> ssl.SSLContext | None:
    if not security.protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=security.ssl_cafile, certfile=security.ssl_certfile, keyfile=security.ssl_keyfile
    )
    return context
