"""The Kafka demo (``make kafka-demo``) runs end to end on the bundled broker and leaves
nothing running: answers and dead letters printed, exit 0, also stopped by Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from onex_stream.cli.kafka_demo import main

REPO = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "onex_stream.cli.kafka_demo"]
ENV_WITHOUT_ONEX = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}


def _closed(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
    except OSError:
        return True
    return False


def _addresses(output: str) -> tuple[str, str]:
    broker = re.search(r"broker: (127\.0\.0\.1:\d+)", output)
    status = re.search(r"status page: http://(127\.0\.0\.1:\d+)/status", output)
    assert broker and status, output
    return broker.group(1), status.group(1)


@pytest.mark.slow
def test_the_kafka_demo_prints_answers_and_dead_letters_then_stops_everything() -> None:
    done = subprocess.run(
        COMMAND,
        cwd=REPO,
        env=ENV_WITHOUT_ONEX,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "16 records produced to onex.demo.orders.cmd.v1: 14 answers" in output
    assert "4 dead letters on onex.demo.orders.error.v1" in output
    # an answer is keyed by its correlation_id; the undecodable record is a dead letter
    assert "key=c0000000-0000-4000-8000-000000000001" in output
    assert "record value is not JSON" in output and "value='this line is not JSON'" in output
    assert all(_closed(address) for address in _addresses(output))  # broker and worker gone
    assert "Traceback" not in output


@pytest.mark.slow
def test_ctrl_c_stops_the_worker_and_the_broker_it_started() -> None:
    demo = subprocess.Popen(
        [*COMMAND, "--linger", "60"],
        cwd=REPO,
        env=ENV_WITHOUT_ONEX,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if "serving the status page" in line:
                break
        demo.send_signal(signal.SIGINT)
        lines.append(demo.stdout.read())
        code = demo.wait(timeout=30)
    finally:
        demo.kill()
    output = "".join(lines)
    assert code == 130, output
    assert "interrupted: stopping the worker and the broker" in output
    assert all(_closed(address) for address in _addresses(output))


def test_the_kafka_demo_refuses_prod(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEX_ENV", "prod")
    assert main([]) == 1
    assert "dev/test only" in capsys.readouterr().err
