"""New db connections with a rotating password: read once more when PostgreSQL refuses it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from onex_stream.infra.secret_cache import RotatingSecret

logger = logging.getLogger(__name__)

# 28P01 (wrong password) and 28000 (the role may not log in this way)
AUTH_FAILURES = (asyncpg.InvalidAuthorizationSpecificationError,)
Connect = Callable[..., Awaitable["asyncpg.Connection[Any]"]]


def rotating_connect(password: RotatingSecret) -> Connect:
    """asyncpg's pool ``connect`` for a pool whose ``password`` is ``password``: asyncpg
    calls it for every new connection (the cached value, read again after its TTL); a
    refused password is read again at once (bypassing the TTL) and tried one more time."""

    async def connect(*args: Any, **kwargs: Any) -> asyncpg.Connection[Any]:
        try:
            connection: asyncpg.Connection[Any] = await asyncpg.connect(*args, **kwargs)
        except AUTH_FAILURES as exc:
            logger.warning(
                "PostgreSQL refused the password from %s (%s); reading it again for one more try",
                password.ref,
                exc.sqlstate,
            )
        else:
            return connection
        await password.refresh()
        connection = await asyncpg.connect(*args, **kwargs)
        return connection

    return connect
