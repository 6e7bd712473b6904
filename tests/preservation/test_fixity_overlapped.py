"""Reading the next block while hashing this one (issue 14) gives the digests of one plain pass,
whatever the size and however the stream splits its reads, and a read error is the caller's."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from preservation.fixity import digest_stream_overlapped

BLOCK = 64 * 1024


class Trickle(io.RawIOBase):
    """A stream that answers every read with at most 1,000 bytes (a socket does), and can fail."""

    def __init__(self, data: bytes, *, fail_at: int | None = None) -> None:
        self.data = memoryview(data)
        self.at = 0
        self.fail_at = fail_at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.fail_at is not None and self.at >= self.fail_at:
            raise OSError("connection reset")
        count = min(len(buffer), 1000, len(self.data) - self.at)
        memoryview(buffer)[:count] = self.data[self.at : self.at + count]
        self.at += count
        return count


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK + 77])
def test_the_digests_are_those_of_one_plain_pass(size: int) -> None:
    data = bytes(i * 7 % 251 for i in range(size))
    expected = {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}
    for stream in (io.BytesIO(data), io.BufferedReader(Trickle(data)), Trickle(data)):
        got = digest_stream_overlapped(stream, ("sha256", "sha512"), block_size=BLOCK)  # type: ignore[arg-type]
        assert (got.size, got.values) == (size, expected)


def test_a_read_error_reaches_the_caller_and_no_reader_thread_is_left() -> None:
    before = threading.active_count()
    with pytest.raises(OSError, match="connection reset"):
        digest_stream_overlapped(
            io.BufferedReader(Trickle(bytes(10 * BLOCK), fail_at=3 * BLOCK)), block_size=BLOCK
        )
    assert threading.active_count() == before
