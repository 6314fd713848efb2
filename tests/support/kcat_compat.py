"""A proxy that lets Debian's kcat (librdkafka 2.0.2) talk to tansu 0.6.

librdkafka 2.0.2 fails on the top-level tagged fields of tansu's ApiVersions v3
response ("Read underflow ... at 274/279") and drops the connection, so kcat can
do nothing at all. This proxy, used only by the kcat tests, forwards every frame
unchanged except ApiVersions (v3+) responses, whose tagged fields (the optional
feature flags) it empties. The product never sees it; the broker bug is named in
the issue note.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from tests.support.tcp_proxy import TcpProxy

API_VERSIONS = 18


class KcatCompatProxy(TcpProxy):
    """TcpProxy that rewrites ApiVersions v3+ responses for librdkafka 2.0.2."""

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        pending: dict[int, int] = {}  # correlation id -> api version of ApiVersions requests
        await asyncio.gather(
            self._frames(reader, up_writer, lambda f: _note_request(f, pending)),
            self._frames(up_reader, writer, lambda f: _fix_response(f, pending)),
        )

    async def _frames(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, edit: object
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                size = struct.unpack(">i", await reader.readexactly(4))[0]
                frame = edit(await reader.readexactly(size))  # type: ignore[operator]
                writer.write(struct.pack(">i", len(frame)) + frame)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


def _note_request(frame: bytes, pending: dict[int, int]) -> bytes:
    api_key, api_version, correlation_id = struct.unpack(">hhi", frame[:8])
    if api_key == API_VERSIONS and api_version >= 3:
        pending[correlation_id] = api_version
    return frame


def _fix_response(frame: bytes, pending: dict[int, int]) -> bytes:
    correlation_id = struct.unpack(">i", frame[:4])[0]
    if pending.pop(correlation_id, None) is None:
        return frame
    position, count = _uvarint(frame, 6)  # after correlation id and error code
    for _ in range(count - 1):  # api keys: key, min, max, tagged fields (empty)
        position, _tags = _uvarint(frame, position + 6)
    position += 4  # throttle_time_ms
    return frame[:position] + b"\x00"  # no tagged fields


def _uvarint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return position, value
