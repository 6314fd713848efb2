"""The official JS parser (@asyncapi/parser) reads every example's AsyncAPI document cleanly.

Optional: skipped when node or npm is missing or the package cannot be installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from onex_stream.core.contracts.asyncapi import build_asyncapi
from tests.core.contracts.test_asyncapi import RUNTIME_CONTRACTS, _host

PARSER = "@asyncapi/parser@3"
CHECK = """\
import { Parser } from '@asyncapi/parser';
import fs from 'fs';
const parser = new Parser();
let failed = 0;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'));
  const problems = diagnostics.filter((d) => d.severity <= 1);
  for (const d of problems) console.log(file, d.code, d.message, JSON.stringify(d.path));
  if (!document || problems.length) failed += 1;
}
process.exit(failed ? 1 : 0);
"""


@pytest.mark.slow
def test_the_official_parser_reports_no_error_or_warning(tmp_path: Path) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for @asyncapi/parser")
    try:
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(tmp_path), PARSER],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {PARSER} timed out")
    if install.returncode != 0:
        pytest.skip(f"npm install {PARSER} failed: {install.stderr[-300:]}")
    files = []
    for path in RUNTIME_CONTRACTS:
        host = _host(path)
        out = tmp_path / f"{path.stem}.json"
        out.write_text(json.dumps(build_asyncapi(host.contract, host.nodes)))
        files.append(str(out))
    (tmp_path / "check.mjs").write_text(CHECK)
    result = subprocess.run(
        [node, str(tmp_path / "check.mjs"), *files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
