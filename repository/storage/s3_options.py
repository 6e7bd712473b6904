"""One S3 location's settings, their validation, and the boto3 client they make.

Kept apart from the backend so that settings can be read and checked, and where the credentials
come from can be told (``storage check``), without the request and upload machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound
from botocore.loaders import Loader, create_loader
from botocore.utils import parse_timestamp

from preservation.errors import ErrorKind
from repository.storage.backend import check_prefix
from repository.storage.errors import StorageError

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB
"""S3's smallest part (all but the last)."""
MAX_COPY_SIZE = 5 * 1024 * MIB
"""Largest object one CopyObject request may copy; bigger ones are copied part by part."""
MAX_PARTS = 10_000
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


@dataclass(frozen=True)
class S3Options:
    """One S3 location's settings (``[[storage.locations]]`` with ``backend = "s3"``).

    Attributes:
        bucket: the bucket; it must exist unless ``create_bucket``.
        prefix: key folder inside the bucket that plays the role of the backend's root.
        endpoint: URL of the S3 service (None: AWS).
        region: signing region; Ceph ignores it, AWS needs it.
        profile: a profile of the credentials file; None: the environment's credentials
            (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) or the default profile.
        credentials_file: a credentials file other than ``~/.aws/credentials``.
        addressing_style: ``path`` (works everywhere, needs no wildcard DNS) or ``virtual``.
        verify_tls: check the server's TLS certificate (on by default; off only for tests).
        ca_bundle: a CA bundle file for a private certificate authority.
        part_size: bytes per multipart part; also the largest object sent in one PUT.
        readback: read every written object back and hash it before the write counts.
        object_lock_mode: ``GOVERNANCE`` or ``COMPLIANCE`` retention (WORM) on objects under
            ``lock_prefix``; the bucket must have Object Lock enabled.
        object_lock_days: retention period from the time of writing.
        lock_prefix: key folder whose objects get the retention (the OCFL storage root; staging
            keys are deleted after publication and must not be locked).
        connect_timeout, read_timeout: seconds before a request counts as failed.
        max_attempts: tries per request (botocore's standard retry mode, with backoff).
        create_bucket: create the bucket when it does not exist (tests, first set-up).
        checksum_sha256: also send the SHA-256 "flexible checksum" headers (``x-amz-checksum-sha256``)
            on every PUT and part, for servers that check them (AWS, recent MinIO and Ceph). Off by
            default: Ceph 16 accepts and ignores them, so they prove nothing there; Content-MD5 and
            read-back are what every write relies on.
    """

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str = "us-east-1"
    profile: str | None = None
    credentials_file: str | None = None
    addressing_style: str = "path"
    verify_tls: bool = True
    ca_bundle: str | None = None
    part_size: int = 16 * MIB
    readback: bool = True
    object_lock_mode: str | None = None
    object_lock_days: int = 0
    lock_prefix: str = "ocfl-root"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    create_bucket: bool = False
    checksum_sha256: bool = False


def validate_options(name: str, options: S3Options) -> None:
    """Refuse settings that cannot work, naming the option (before any request is made)."""
    problems: list[tuple[str, str]] = []
    if not options.bucket:
        problems.append(("bucket", "an S3 location needs a bucket"))
    if options.part_size < MIN_PART_SIZE:
        problems.append(("part_size", f"must be at least {MIN_PART_SIZE} bytes (S3's smallest part)"))
    if options.addressing_style not in ("path", "virtual", "auto"):
        problems.append(("addressing_style", "must be path, virtual or auto"))
    if options.object_lock_mode is not None and options.object_lock_mode not in LOCK_MODES:
        problems.append(("object_lock_mode", "must be GOVERNANCE or COMPLIANCE"))
    if options.object_lock_mode is not None and options.object_lock_days <= 0:
        problems.append(("object_lock_days", "a retention mode needs a positive number of days"))
    if options.prefix:
        try:
            check_prefix(options.prefix, location=name)
        except StorageError:
            problems.append(("prefix", "not a safe key folder"))
    if problems:
        option, reason = problems[0]
        raise StorageError(
            f"storage location {name!r}: option {option!r}: {reason}",
            code="storage.bad_option",
            kind=ErrorKind.USAGE,
            location=name,
            params={"option": option, "reason": reason},
        )


@cache
def _shared_loader() -> Loader:
    """botocore's reader of its service models, shared by every client of this process: each new
    session would otherwise parse the S3 model's JSON again (about half a second of CPU for each
    location opened, and an audit opens its locations more than once; issue 14)."""
    return create_loader()


def core_session(options: S3Options) -> botocore.session.Session:
    core = botocore.session.Session(profile=options.profile)
    core.register_component("data_loader", _shared_loader())
    if options.credentials_file:
        core.set_config_variable("credentials_file", options.credentials_file)
    return core


def credentials_method(options: S3Options) -> str | None:
    """Where botocore would find credentials for ``options`` in this process (its provider's
    ``method``), or None when it finds none (or the profile is missing). Makes no request."""
    try:
        found = core_session(options).get_credentials()
    except (ProfileNotFound, BotoCoreError):
        return None
    return str(found.method) if found is not None else None


def timestamp(value: str) -> datetime:
    """A timestamp of an S3 response, as botocore gives it (aware, UTC).

    botocore parses every one with dateutil, about a millisecond each here: every key of a listing
    carries one, and listing the keys of a 4,000-file AIP twice per audit cost seconds of CPU
    (issue 14). S3 writes ISO 8601 in its XML, which :meth:`datetime.fromisoformat` reads; the
    HTTP dates of headers and anything else go to botocore's own parser.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return parse_timestamp(value)  # type: ignore[no-any-return]
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def make_client(options: S3Options) -> Any:
    core = core_session(options)
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=timestamp)
    session = boto3.Session(botocore_session=core, region_name=options.region)
    config = Config(
        s3={"addressing_style": options.addressing_style},
        # Ceph 16 and other older servers break on the aws-chunked uploads that newer boto3 sends
        # by default over HTTPS (s3-test-server.md pitfall 8); Content-MD5 is what we rely on.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        retries={"max_attempts": options.max_attempts, "mode": "standard"},
        tcp_keepalive=True,
    )
    verify: bool | str = options.ca_bundle or options.verify_tls
    return session.client("s3", endpoint_url=options.endpoint, config=config, verify=verify)


__all__ = [
    "LOCK_MODES",
    "MAX_COPY_SIZE",
    "MAX_PARTS",
    "MIB",
    "MIN_PART_SIZE",
    "S3Options",
    "core_session",
    "credentials_method",
    "make_client",
    "validate_options",
]
