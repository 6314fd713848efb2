"""bench_kafka's Quix Streams variant, served by an interpreter that has quixstreams.

Run by bench_kafka as ``<quix python> -m tests.benchmarks.quix_variant BOOTSTRAP TAG CMD
EVT``, with the same protocol as its other variant processes: serve until stdin has a
line, then print the figures (assignment marks, CPU seconds from the first assignment to
that line, peak RSS) as one JSON line. Quix Streams lives in an environment of its own
(``make bench`` makes ``.venv-quix`` from ``quix-requirements.txt``): it pins pydantic
below the version the project runs on. Imports only the standard library, quixstreams (and
its Authlib, for a warning filter) and the benchmarks' light helpers.

The work per record is the bare agents' (``common.respond``: decode, build the answer,
encode); the answer keeps the command's key (its correlation_id, as ``respond``'s key).
At-least-once as Quix runs it by default: offsets committed every 5 s and at stop, after
the producer flushed.
"""

from __future__ import annotations

import json
import sys
import threading
import warnings
from typing import Any

# quixstreams' Authlib warns, on import, that its httpx module is deprecated; importing
# Authlib's warning class adds an "always" filter for it, which this filter comes before
from authlib.deprecate import AuthlibDeprecationWarning

warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)

from quixstreams import Application  # noqa: E402 -- after the filter

from tests.benchmarks.common import Mark, peak_rss_mib, respond  # noqa: E402


def serve(bootstrap: str, tag: str, cmd: str, evt: str) -> dict[str, Any]:
    """Serve until stdin has a line; the figures bench_kafka reads."""
    app = Application(
        broker_address=bootstrap,
        consumer_group=f"bench_quix_{tag}",
        auto_offset_reset="earliest",
        auto_create_topics=False,  # bench_kafka created them
        use_changelog_topics=False,
        consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 300},
        loglevel="WARNING",
    )
    source = app.topic(cmd, key_deserializer="bytes", value_deserializer="bytes")
    sink = app.topic(evt, key_serializer="bytes", value_serializer="bytes")
    app.dataframe(source).apply(lambda value: respond(value)[1]).to_topic(sink)
    marks: list[Mark] = []
    on_assign = app._on_assign

    def assigned(consumer: Any, partitions: list[Any]) -> None:
        if partitions:
            marks.append(Mark.now())
        on_assign(consumer, partitions)

    app._on_assign = assigned  # type: ignore[method-assign]
    done: list[Mark] = []

    def stop_on_line() -> None:
        sys.stdin.readline()
        done.append(Mark.now())
        app.stop()

    threading.Thread(target=stop_on_line, daemon=True).start()
    app.run()  # returns once stopped, after its final commit
    return {
        "assigned": [mark.at for mark in marks],
        "cpu_seconds": done[0].cpu - marks[0].cpu,
        "rss_mib": peak_rss_mib(),
    }


if __name__ == "__main__":
    print(json.dumps(serve(*sys.argv[1:5])), flush=True)
