"""Timestamps of S3 responses are read without dateutil (issue 14: a millisecond per listed key)
and come out as the same instants botocore's own parser gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.utils import parse_timestamp

from repository.storage.s3_options import timestamp


@pytest.mark.parametrize(
    "value",
    ["2026-12-07T23:45:35.330Z", "2026-12-07T23:45:35Z", "Wed, 12 Oct 2009 17:50:00 GMT", "1700000000"],
)
def test_the_same_instant_as_botocore_aware(value: str) -> None:
    ours = timestamp(value)
    assert ours.tzinfo is not None
    assert ours == parse_timestamp(value)


def test_a_listing_timestamp_is_utc() -> None:
    assert timestamp("2026-12-07T23:45:35.330Z") == datetime(2026, 12, 7, 23, 45, 35, 330000, tzinfo=UTC)
