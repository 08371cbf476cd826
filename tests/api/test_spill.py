"""The NDJSON stream's spill queue keeps order across memory and file, and never blocks its producer."""

from __future__ import annotations

import asyncio

import pytest

from app.api.spill import SpillQueue


async def drain(queue: SpillQueue) -> list[bytes]:
    out = []
    while (chunk := await queue.get()) is not None:
        out.append(chunk)
    return out


def test_order_is_kept_when_chunks_spill_to_the_file_and_back() -> None:
    async def run() -> tuple[bytes, int]:
        queue = SpillQueue(memory_limit=100)
        sent = [f"line {i:04d}\n".encode() for i in range(1000)]
        for chunk in sent[:500]:  # the consumer is not reading: all but the first few spill
            queue.put(chunk)
        first = await queue.get()
        assert first == sent[0]
        got = [first]
        for chunk in sent[500:]:
            queue.put(chunk)
            got.append(await queue.get())  # interleaved: memory, then file, then memory again
        queue.close()
        got += await drain(queue)
        return b"".join(got), queue.spilled_bytes

    data, spilled = asyncio.run(run())
    assert data == b"".join(f"line {i:04d}\n".encode() for i in range(1000))
    assert spilled > 4_000, "most of the chunks should have gone through the file"


def test_memory_stays_under_the_limit_while_nobody_reads() -> None:
    queue = SpillQueue(memory_limit=1024)
    for _ in range(10_000):
        queue.put(b"x" * 100)
    assert queue._memory_bytes <= 1024
    assert queue.spilled_bytes >= 10_000 * 100 - 1024
    queue.discard()


def test_a_producer_failure_reaches_the_consumer_after_the_queued_bytes() -> None:
    async def run() -> list[bytes]:
        queue = SpillQueue(memory_limit=10)
        queue.put(b"a" * 5)
        queue.put(b"b" * 50)
        queue.fail(RuntimeError("client went away"))
        got = [await queue.get(), await queue.get()]
        with pytest.raises(RuntimeError, match="client went away"):
            await queue.get()
        return got

    assert asyncio.run(run()) == [b"a" * 5, b"b" * 50]


def test_get_waits_for_the_producer() -> None:
    async def run() -> list[bytes]:
        queue = SpillQueue()

        async def produce() -> None:
            for i in range(3):
                await asyncio.sleep(0.01)
                queue.put(str(i).encode())
            queue.close()

        task = asyncio.create_task(produce())
        got = await drain(queue)
        await task
        return got

    assert asyncio.run(run()) == [b"0", b"1", b"2"]
