"""The default id source: RFC 4122 version 4 UUIDs, unique, and never shared with a fork."""

from __future__ import annotations

import os
from uuid import RFC_4122

from onex_stream.core.clock import random_ids


def test_random_ids_are_rfc4122_version_4_uuids() -> None:
    for _ in range(600):  # more than one draw from the operating system
        uuid = random_ids()
        assert (uuid.version, uuid.variant) == (4, RFC_4122)


def test_random_ids_do_not_repeat_across_draws() -> None:
    ids = [random_ids() for _ in range(5_000)]
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    random_ids()  # the pool holds ids now; a child must not hand out the same ones
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, random_ids().bytes)
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    child_id = os.read(read, 16)
    os.close(read)
    assert child_id != random_ids().bytes
