"""Entry points as subprocesses: faust's own CLI, the production and the dev host."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support.contracts import write_contract
from tests.support.tcp_proxy import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"
SAMPLES = REPO / "contracts" / "samples" / "demo_commands.jsonl"


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEX_")}
    return {**env, **extra}


async def start(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def read_until(process: asyncio.subprocess.Process, marker: str, lines: list[str]) -> None:
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            raise AssertionError(f"process ended before {marker!r}:\n{''.join(lines)}")
        lines.append(line)
        if marker in line:
            return


async def test_faust_cli_runs_the_host_and_stops_cleanly_on_sigterm() -> None:
    env = environ(ONEX_ENV="dev", ONEX_CONTRACT=str(DEMO))
    process = await start(
        str(BIN / "faust"), "-A", "onex_stream", "worker", "--without-web", "-l", "info", env=env
    )
    lines: list[str] = []
    try:
        await asyncio.wait_for(read_until(process, "RuntimeHost ready", lines), 30)
    except BaseException:
        process.kill()
        raise
    process.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(process.communicate(), 30)
    output = "".join(lines) + rest.decode()
    assert process.returncode == 0, output
    assert "Listening on topic(s): onex.demo.orders.cmd.v1" in output
    assert output.count("Handler shut down: local") == 1
    assert "RuntimeHost stopped: demo_host" in output


@pytest.mark.parametrize(
    ("command", "env"),
    [
        (["faust", "-A", "onex_stream", "worker", "--without-web"], {"ONEX_CONTRACT": str(DEMO)}),
        (["omnibase-runtime-host", str(DEMO)], {"ONEX_ENV": "prod"}),
    ],
)
async def test_production_starts_refuse_the_local_handler(
    command: list[str], env: dict[str, str]
) -> None:
    process = await start(str(BIN / command[0]), *command[1:], env=environ(**env))
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "local handler, which is dev/test only" in output.decode()
    assert "Traceback" not in output.decode()


async def test_faust_cli_without_a_contract_says_what_to_set() -> None:
    process = await start(str(BIN / "faust"), "-A", "onex_stream", "worker", env=environ())
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "set ONEX_CONTRACT" in output.decode()


DB_NODE = """\
schema_version: "1.0.0"
name: "store"
node_type: "EFFECT"
io_operations:
  - {type: db, operations: ["db.query"]}
"""
DB_HOST = """\
schema_version: "2.0.0"
runtime:
  name: "db_start_fault"
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "onex.test.dbstart.cmd.v1"}}
  handlers:
    - type: "local"
    - type: "db"
      config: {{dsn: "postgresql://onex@127.0.0.1:{port}/onex", timeout_ms: 2000}}
  nodes:
    - slug: "store"
"""


async def test_a_handler_failing_at_start_ends_in_one_located_line(tmp_path: Path) -> None:
    """Before: a Faust traceback. After: exit 1 and the handler's contract line."""
    runtime = DB_HOST.format(port=free_port())  # nothing listens there
    contract = write_contract(tmp_path, runtime, {"store": DB_NODE})
    env = environ(ONEX_CONTRACT=str(contract), ONEX_ENV="test")
    process = await start(
        str(BIN / "faust"), "-A", "onex_stream", "worker", "--without-web", env=env
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode()
    assert process.returncode == 1
    assert f"cannot start: {contract}:10: the db handler failed to initialize" in text
    assert "Traceback" not in text


async def test_importing_the_package_reads_no_contract() -> None:
    env = environ(ONEX_CONTRACT="/does/not/exist.yaml")
    process = await start(sys.executable, "-c", "import onex_stream; print('ok')", env=env)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert (process.returncode, output.decode().strip()) == (0, "ok")


async def test_dev_host_answers_every_input_line_and_exits_0() -> None:
    process = await start(
        str(BIN / "omninode-runtime-host-dev"), str(DEMO), "--input", str(SAMPLES), env=environ()
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stdout.decode()
    answers = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    inputs = SAMPLES.read_text().splitlines()
    dead = [a for a in answers if "dead_letter" in a]
    responses = [a for a in answers if "dead_letter" not in a]
    assert len(dead) == 4  # two invalid envelopes, one non-JSON line, one JSON array
    assert len(responses) == len(inputs) - 2  # the two non-envelopes cannot be answered
    codes = {(r["error"] or {}).get("code") for r in responses}
    assert codes == {
        None,
        "NODE_NOT_FOUND",
        "HANDLER_NOT_FOUND",
        "INVALID_OPERATION",
        "OPERATION_NOT_ALLOWED",
        "HANDLER_EXECUTION_ERROR",
        "HANDLER_TIMEOUT",
        "RATE_LIMITED",
        "CIRCUIT_OPEN",
        "ENVELOPE_EXPIRED",
        "ENVELOPE_VALIDATION_ERROR",
    }


async def test_dev_host_refuses_prod() -> None:
    process = await start(
        str(BIN / "omninode-runtime-host-dev"),
        str(DEMO),
        "--input",
        str(SAMPLES),
        env=environ(ONEX_ENV="prod"),
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "refuses to run with ONEX_ENV=prod" in output.decode()


async def test_the_readme_demo_does_real_http_and_sql_work() -> None:
    port = str(free_port())
    process = await start(
        sys.executable, "-m", "onex_stream.cli.demo", "--port", port, env=environ()
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    assert process.returncode == 0, text
    assert f"status page: http://127.0.0.1:{port}/status" in text
    assert "21 commands in, 23 answers out:" in text
    lines = text.splitlines()
    for operation, expected in (
        ("http.get", '{"status_code": 200'),
        ("db.transaction", '{"status": "COMMIT"'),
        ("db.query", '{"rows": [{"id": "42", "name": "User 42", "plan": "pro"}]'),
    ):
        assert any(
            f"user_directory_effect  {operation}" in line and expected in line for line in lines
        ), operation
    assert "HANDLER_NOT_FOUND" in text and "DEAD LETTER" in text
