"""A loopback TCP proxy the test controls: cut every connection, refuse, restore."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from onex_stream.devtools.tansu import free_port

__all__ = ["TcpProxy", "free_port"]


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target_port``; runs on its own thread and loop."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._writers: set[asyncio.StreamWriter] = set()
        self._refusing = False
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        """Listen (blocks until the server is up)."""
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        """Close every open connection and refuse new ones until ``restore``."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept and forward connections again."""
        self._refusing = False

    def stop(self) -> None:
        """Close everything and stop the thread."""
        self._call(self._cut(close_server=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _cut(self, close_server: bool = False) -> None:
        self._refusing = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if close_server and self._server is not None:
            self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await self._forward(reader, writer, up_reader, up_writer)

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        """Pipe both directions until either side closes."""
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
