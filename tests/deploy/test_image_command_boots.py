"""The image's command on the image's contract starts and answers, without Docker.

The Dockerfile's ENTRYPOINT + CMD (``faust -A onex_stream worker --web-bind 0.0.0.0 ...``)
and its ENV (``ONEX_ENV=prod``, ``ONEX_CONTRACT``) are read with BuildKit's parser and run
as a worker process here, against the services the compose stack provides, started
locally: a Kafka-protocol broker (tansu) whose topics were created beforehand from
redpanda/topics.txt (production refuses to create them), PostgreSQL, OpenBao (dev) and a
fake Consul agent. One change to the contract: ``idempotence: false``, since tansu does
not implement InitProducerId (Redpanda, in compose, does).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import dockerfile
import httpx
import pytest
import yaml
from aiohttp.test_utils import TestServer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support import openbao, postgres
from tests.support.consul_fake import FakeConsul
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, produce
from tests.support.openbao import OpenBao
from tests.support.postgres import PASSWORD, EmbeddedPostgres
from tests.support.tcp_proxy import free_port
from tests.support.workers import WorkerProcess

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "Dockerfile.runtime-host"

openbao_server = openbao.openbao_server  # the session's OpenBao (tests/support/openbao.py)
postgres_server = postgres.postgres_server  # the session's PostgreSQL
pytestmark = pytest.mark.slow


def image_command() -> tuple[list[str], dict[str, str]]:
    """The final stage's ENTRYPOINT + CMD and ENV."""
    commands = list(dockerfile.parse_file(str(DOCKERFILE)))
    final = commands[max(i for i, c in enumerate(commands) if c.cmd == "FROM") :]
    argv: list[str] = []
    env: dict[str, str] = {}
    for command in final:
        if command.cmd in {"ENTRYPOINT", "CMD"}:
            argv += list(command.value)
        if command.cmd == "ENV":
            values = list(command.value)
            env.update(zip(values[::2], values[1::2], strict=True))
    return argv, env


def listed_topics() -> list[list[str]]:
    """topics.txt's rows: name, partitions, replicas, topic configs."""
    lines = (REPO / "redpanda" / "topics.txt").read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.startswith("#")]


async def create_listed_topics(bootstrap: str) -> None:
    """Create topics.txt's topics as redpanda/create-topics.sh does with rpk."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    row[0],
                    int(row[1]),
                    int(row[2]),
                    topic_configs=dict(config.split("=", 1) for config in row[3:]),
                )
                for row in listed_topics()
            ]
        )
    finally:
        await admin.close()


@pytest.fixture
async def consul() -> AsyncIterator[FakeConsul]:
    fake = FakeConsul()  # dev mode: no ACL token
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(access_log=None)
    fake.address = f"http://127.0.0.1:{server.port}"
    yield fake
    await server.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    started = TansuBroker(log_path=tmp_path / "tansu.log").start()
    yield started
    started.stop()


def image_contract(tmp_path: Path) -> Path:
    """The image's default contract, nodes_dir absolute, idempotence off (tansu)."""
    _, env = image_command()
    source = REPO / env["ONEX_CONTRACT"].removeprefix("/app/")
    contract = yaml.safe_load(source.read_text())
    contract["runtime"]["nodes_dir"] = str(source.parent.parent / "nodes")
    contract["runtime"]["event_bus"]["config"]["idempotence"] = False
    assert contract["runtime"]["health"]["port"] == 6066  # the port HEALTHCHECK probes
    path = tmp_path / "host.yaml"
    path.write_text(yaml.safe_dump(contract))
    return path


async def wait_ready(url: str, worker: WorkerProcess, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if worker.process is not None and worker.process.poll() is not None:
                pytest.fail(f"the worker exited:\n{worker.output[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"not ready within {seconds} s:\n{worker.output[-4000:]}")
            await asyncio.sleep(0.1)


class ImageCommand(WorkerProcess):
    """A worker process running an exact command line (the image's) in ``cwd``."""

    def __init__(self, argv: list[str], cwd: Path, **env: str) -> None:
        super().__init__(Path(env["ONEX_CONTRACT"]), **env)
        self.argv, self.cwd = argv, cwd

    def start(self) -> ImageCommand:
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self


async def test_the_image_command_starts_on_its_contract_and_answers_a_db_query(
    tmp_path: Path,
    broker: TansuBroker,
    postgres_server: EmbeddedPostgres,
    openbao_server: OpenBao,
    consul: FakeConsul,
) -> None:
    argv, image_env = image_command()
    assert argv[0] == "faust" and image_env["ONEX_ENV"] == "prod"
    await create_listed_topics(broker.bootstrap)
    port = free_port()  # 6066 (the image's) may be taken on a shared machine
    scratch = tmp_path / "tmp"  # the container's only writable directory
    scratch.mkdir()
    worker = ImageCommand(
        [str(Path(sys.executable).parent / "faust"), *argv[1:], "--web-port", str(port)],
        scratch,
        **{
            **image_env,
            "ONEX_CONTRACT": str(image_contract(tmp_path)),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "TMPDIR": str(scratch),
            "HOME": str(scratch),
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(postgres_server.port),
            "POSTGRES_DB": "postgres",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": PASSWORD,
            "VAULT_ADDR": openbao_server.address,
            "VAULT_TOKEN": openbao_server.root_token,
            "CONSUL_ADDR": consul.address,
        },
    ).start()
    try:
        await wait_ready(f"http://127.0.0.1:{port}", worker, 90)
        envelope_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        value = {
            "envelope_id": envelope_id,
            "correlation_id": correlation_id,
            "source_node": "deploy_test",
            "target_node": "order_store_effect",
            "handler_type": "db",
            "operation": "db.query",
            "payload": {"sql": "SELECT 1 AS one"},
        }
        await produce(
            broker.bootstrap,
            "onex.acme.orders.cmd.v1",
            [json.dumps(value).encode()],
            [correlation_id.encode()],
            batched=False,
        )
        async with AnswerReader(broker.bootstrap, "onex.acme.orders.evt.v1") as reader:
            await reader.read_until({envelope_id}, 60)
            record = reader.records[-1]
        answer = json.loads(record.value)
        assert answer["success"] is True, answer
        assert answer["payload"]["rows"] == [{"one": 1}]
        assert record.key == correlation_id.encode()
    finally:
        worker.signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 60)
    assert code == 0, worker.output[-4000:]
