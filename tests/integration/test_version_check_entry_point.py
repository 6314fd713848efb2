"""The faust worker refuses an unsupported dependency version with one line and exit 1."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"


async def test_the_worker_refuses_an_unsupported_version_in_one_line_and_exits_1() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEX_")}
    env |= {"ONEX_ENV": "dev", "ONEX_CONTRACT": str(DEMO), "PYTHONPATH": str(REPO)}
    faust = Path(sys.executable).parent / "faust"
    app = "tests.support.unsupported_version_worker"
    process = await asyncio.create_subprocess_exec(
        str(faust), "-A", app, "worker", "--without-web", "-l", "info",
        env=env, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode()
    assert process.returncode == 1, text
    assert (
        "cannot start: faust-streaming 0.16.0 is outside the supported range; the "
        "compatibility matrix supports faust-streaming>=0.15.3,<0.16" in text
    )
    assert "Traceback" not in text
    assert "RuntimeHost ready" not in text
