"""A byte queue between a streaming scorer and its HTTP client that never makes the scorer wait.

Why: an NDJSON batch answers line for line while its body is still arriving. Many clients (httpx, requests,
Java's HttpClient) send the whole body before they read any of the answer. If the server waited for such a
client to read, it would stop reading the body, the client would block sending it, and both would wait for
ever. So the scorer writes its result lines here and goes on reading: they are held in memory up to a limit
and then in an anonymous temporary file, and the response sends them as fast as the client takes them. A
client that reads while it sends gets lines as they are scored; memory stays bounded either way.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from typing import IO

READ_SIZE = 1 << 20


class SpillQueue:
    """FIFO of byte chunks: memory first, a temporary file once `memory_limit` bytes are waiting.

    One producer (`put`, `close`, `fail`) and one consumer (`get`) on the same event loop. Order is kept:
    while the file holds unread bytes, new chunks go behind them in the file.
    """

    def __init__(self, memory_limit: int = 8 << 20) -> None:
        self.memory_limit = memory_limit
        self._memory: deque[bytes] = deque()
        self._memory_bytes = 0
        self._file: IO[bytes] | None = None
        self._read_at = self._write_at = 0
        self._closed = False
        self._error: BaseException | None = None
        self._ready = asyncio.Event()
        self.spilled_bytes = 0  # how much ever went through the file (for tests and logs)

    def put(self, data: bytes) -> None:
        """Queue `data` behind everything before it; never waits."""
        if not data:
            return
        if self._file is None and self._memory_bytes + len(data) <= self.memory_limit:
            self._memory.append(data)
            self._memory_bytes += len(data)
        else:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="crm-dq-stream-")
                self._read_at = self._write_at = 0
            self._file.seek(self._write_at)
            self._file.write(data)
            self._write_at += len(data)
            self.spilled_bytes += len(data)
        self._ready.set()

    def close(self) -> None:
        """No more data: `get` returns None once the queue is empty."""
        self._closed = True
        self._ready.set()

    def fail(self, error: BaseException) -> None:
        """The producer failed: `get` raises `error` once the bytes queued before it are taken."""
        self._error = error
        self.close()

    async def get(self) -> bytes | None:
        """The next chunk (file contents in pieces of up to 1 MiB), or None at the end."""
        while True:
            if self._memory:
                data = self._memory.popleft()
                self._memory_bytes -= len(data)
                return data
            if self._file is not None:
                data = self._read_file()
                if data:
                    return data
            if self._closed:
                self.discard()
                if self._error is not None:
                    raise self._error
                return None
            self._ready.clear()
            await self._ready.wait()

    def _read_file(self) -> bytes:
        assert self._file is not None
        self._file.seek(self._read_at)
        data = self._file.read(min(READ_SIZE, self._write_at - self._read_at))
        self._read_at += len(data)
        if self._read_at >= self._write_at:  # drained: back to memory, behind nothing
            self._file.close()
            self._file = None
        return data

    def discard(self) -> None:
        """Drop the temporary file (the client went away, or everything was sent)."""
        if self._file is not None:
            self._file.close()
            self._file = None
