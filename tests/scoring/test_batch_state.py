"""What a batch keeps of each record stays small: packed values take their length, nothing more."""

from __future__ import annotations

import tracemalloc

from app.scoring.judge import pack, unpack


def test_packed_values_take_their_length_not_a_serialiser_buffer() -> None:
    values = [["Ann", "Lee", f"ann{i}@example.com", "+14155550123", "", None, 3] for i in range(5000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        packed = [pack(v) for v in values]
        per_record = (tracemalloc.get_traced_memory()[0] - before) / len(values)
    finally:
        tracemalloc.stop()
    assert per_record < 2 * len(packed[0]) + 64  # orjson's own results hold a 4 KiB buffer each
    assert [unpack(p) for p in packed] == values


def test_values_json_cannot_carry_are_kept_as_they_are() -> None:
    odd = ["a", 2 ** 70]
    assert pack(odd) == odd and unpack(pack(odd)) == odd
