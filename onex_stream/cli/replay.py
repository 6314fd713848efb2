"""``omnibase-runtime-replay``: re-send dead letters to their command topic, after a fix.

Reads a dead-letter topic (all of it, or a partition/offset/time range, and by reason),
shows what it would re-send, and re-publishes the original key and bytes to the original
command topic only when confirmed (``--yes`` or answering y). Truncated dead letters
(``onex-dlq-truncated``) lost their original bytes: they are listed, never re-sent.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onex_stream.cli.replay_table import confirmation_question, resent_lines, table
from onex_stream.core.contracts import load_runtime_contract
from onex_stream.core.errors import RuntimeHostError
from onex_stream.infra.event_bus.kafka.dead_letters import (
    DeadLetter,
    ReadWindow,
    read_dead_letters,
    republish,
)
from onex_stream.infra.event_bus.kafka.security import aiokafka_auth

PROG = "omnibase-runtime-replay"
Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class Target:
    """Where to read and write: brokers, client credentials, dead-letter topics."""

    bootstrap: str
    auth: Mapping[str, Any]
    topics: tuple[str, ...]
    idempotence: bool = False


def main(argv: list[str] | None = None, confirm: Confirm | None = None) -> int:
    """Run the replay; returns the exit code (0 also for a dry run, 1 on errors)."""
    args = _parser().parse_args(argv)
    client_log = logging.getLogger("aiokafka")  # its connection errors are reported below
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        target = _target(args, os.environ)
        window = ReadWindow(
            partitions=frozenset(args.partition) if args.partition else None,
            from_offset=args.from_offset,
            to_offset=args.to_offset,
            since_ms=_epoch_ms(args.since, "--since"),
            until_ms=_epoch_ms(args.until, "--until"),
        )
        return asyncio.run(_replay(target, window, args, confirm or _ask))
    except RuntimeHostError as error:
        print(f"{PROG}: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        client_log.setLevel(level)


async def _replay(target: Target, window: ReadWindow, args: Any, confirm: Confirm) -> int:
    letters: list[DeadLetter] = []
    for topic in target.topics:
        letters += await read_dead_letters(target.bootstrap, topic, window, target.auth)
    chosen = [letter for letter in letters if _matches(letter, args.reason, args.error_code)]
    if not chosen:
        print(f"no dead letters match on {', '.join(target.topics)}")
        return 0
    print("\n".join(table(chosen)))
    replayable = [letter for letter in chosen if letter.refusal is None]
    for letter in chosen:
        if letter.refusal is not None:
            print(f"not re-sent: partition {letter.partition} offset {letter.offset}: "
                  f"{letter.refusal}")  # fmt: skip
    if not replayable:
        print("nothing can be re-sent")
        return 0
    question = confirmation_question(replayable)
    if not (args.yes or confirm(question)):
        print(f"nothing re-sent (dry run): confirm with --yes to re-send {len(replayable)}")
        return 0
    results = await republish(
        target.bootstrap, replayable, target.auth, idempotence=target.idempotence
    )
    lines, failed = resent_lines(results)
    print("\n".join(lines))
    return 1 if failed else 0


def _matches(letter: DeadLetter, reason: str | None, code: str | None) -> bool:
    if reason is not None and reason.lower() not in letter.reason.lower():
        return False
    return code is None or (letter.header("error-code") or "").upper() == code.upper()


def _target(args: Any, env: Mapping[str, str]) -> Target:
    """Brokers and credentials from the contract (like the host) or the flags."""
    if args.contract is None:
        if not args.bootstrap_servers or not args.topic:
            raise RuntimeHostError("give a CONTRACT, or --bootstrap-servers and --topic")
        return Target(args.bootstrap_servers, {}, tuple(args.topic))
    runtime = load_runtime_contract(args.contract, env=env).runtime
    config = runtime.event_bus.config
    if runtime.event_bus.kind != "kafka":
        raise RuntimeHostError(f"{args.contract}: event_bus.kind is not kafka: nothing to replay")
    servers = args.bootstrap_servers or config.bootstrap_servers or "localhost:9092"
    bootstrap = ",".join(server.strip() for server in servers.split(","))  # as the host does
    topics = tuple(args.topic or dict.fromkeys(s.dead_letter_topic for s in runtime.subscriptions))
    return Target(bootstrap, aiokafka_auth(config.security, env), topics, config.idempotence)


def _epoch_ms(text: str | None, flag: str) -> int | None:
    """An ISO 8601 time (UTC unless it names an offset) in epoch milliseconds."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RuntimeHostError(
            f"{flag} {text!r} is not an ISO 8601 time (e.g. 2026-11-30T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _ask(question: str) -> bool:
    """Ask on the terminal; without one (a pipe, CI) the answer is no."""
    if not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Re-send dead letters to their original command topic."
    )
    where = parser.add_argument_group("where")
    where.add_argument("contract", nargs="?", help="runtime host contract (brokers, security, "
                       "dead-letter topics), as the host reads it")  # fmt: skip
    where.add_argument("--bootstrap-servers", metavar="HOSTS", help="host:port[,...] "
                       "(instead of the contract's; PLAINTEXT without a contract)")  # fmt: skip
    where.add_argument("--topic", action="append", help="a dead-letter topic (repeatable; "
                       "default: every dead-letter topic of the contract)")  # fmt: skip
    which = parser.add_argument_group("which dead letters (all when none is given)")
    which.add_argument("--partition", type=int, action="append", metavar="N",
                       help="only partition N (repeatable)")  # fmt: skip
    which.add_argument("--from-offset", type=int, metavar="N", help="first offset (inclusive)")
    which.add_argument("--to-offset", type=int, metavar="N", help="last offset (inclusive)")
    which.add_argument("--since", metavar="TIME",
                       help="written at or after TIME (ISO 8601, UTC unless it says)")  # fmt: skip
    which.add_argument("--until", metavar="TIME", help="written before TIME")
    which.add_argument("--reason", metavar="TEXT",
                       help="onex-dlq-reason contains TEXT (case-insensitive)")  # fmt: skip
    which.add_argument("--error-code", metavar="CODE",
                       help="onex-dlq-error-code is CODE, e.g. EVENT_BUS_ERROR")  # fmt: skip
    parser.add_argument("--yes", action="store_true",
                        help="re-send without asking (else: asked on a terminal, "
                        "nothing sent otherwise)")  # fmt: skip
    return parser


if __name__ == "__main__":
    sys.exit(main())
