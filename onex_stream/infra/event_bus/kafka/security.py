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

_KEY = "event_bus.config.security.password_ref"
#: Why Kafka's ``password_ref`` cannot be a ``vault:`` reference, and what to use instead.
KAFKA_VAULT_REFUSED = (
    "Kafka cannot use vault: references (the Kafka client is configured when the host is "
    "built, before the vault handler starts, and keeps one password for its life); use "
    "env:<NAME> or file:/<path> (e.g. a file Vault Agent renders)"
)


def resolve_password(reference: str, env: Mapping[str, str]) -> str:
    """The secret behind ``env:NAME`` (from ``env``) or ``file:/path``, read once, when the
    host is built (a rotation takes effect at restart); ``vault:`` is refused
    (``KAFKA_VAULT_REFUSED``). Failures name the reference, never the value."""
    try:
        if reference.startswith("vault:"):
            message = f"{reference}: {KAFKA_VAULT_REFUSED}"
            raise SecretResolutionError(message, details={"reference": reference})
        return SecretResolver(env).resolve(reference)
    except SecretResolutionError as error:
        raise SecretResolutionError(
            f"{_KEY}: {error.message}", details={**error.details, "key": _KEY}
        ) from None


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
