"""Retry budgets: a contract whose worst case cannot fit the consumer's limits is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from onex_stream.core.contracts import load_runtime_contract
from onex_stream.core.contracts.budgets import (
    MAX_POLL_INTERVAL_MS,
    backoff_caps_ms,
    budget_problems,
)
from onex_stream.core.contracts.handler_binding import ModelRetryPolicy
from onex_stream.core.contracts.runtime_contract import ModelRuntimeSection
from onex_stream.core.errors import ContractValidationError

CONTRACT = """\
schema_version: "2.0.0"
runtime:
  name: "host"
  event_bus:
    kind: "inmemory"
    config:
      rebalance_timeout_ms: {rebalance}
      max_inflight_envelopes: {inflight}
  max_concurrent_operations: {concurrency}
  handlers:
    - type: "http"
      config:
        timeout_ms: {timeout}
        retry_policy: {{max_retries: 3, base_delay_ms: 100, max_delay_ms: 300}}
  nodes:
    - slug: "node_a"
"""


def runtime(**fields: object) -> ModelRuntimeSection:
    return ModelRuntimeSection.model_validate({"name": "host", **fields})


def http(timeout_ms: int, **config: object) -> dict[str, object]:
    retry = {"max_retries": 3, "base_delay_ms": 100, "max_delay_ms": 300}
    return {"type": "http", "config": {"timeout_ms": timeout_ms, "retry_policy": retry, **config}}


def test_backoff_caps_double_up_to_max_delay_or_stay_fixed() -> None:
    assert backoff_caps_ms(
        ModelRetryPolicy(max_retries=4, base_delay_ms=100, max_delay_ms=300)
    ) == [
        100,
        200,
        300,
        300,
    ]
    fixed = ModelRetryPolicy(max_retries=2, backoff_strategy="fixed", base_delay_ms=50)
    assert backoff_caps_ms(fixed) == [50, 50]


def test_a_budget_within_the_rebalance_timeout_and_poll_interval_fits() -> None:
    bus = {"kind": "inmemory", "config": {"max_inflight_envelopes": 400}}
    # 8600 ms per envelope; a batch of 100 on 4 slots: 25 rounds, 215 s
    section = runtime(event_bus=bus, max_concurrent_operations=4, handlers=[http(2000)])
    assert budget_problems(section) == []


def test_handlers_without_a_retry_policy_are_not_checked() -> None:
    assert budget_problems(runtime(handlers=[{"type": "http"}])) == []


def test_envelopes_running_at_once_must_fit_the_rebalance_timeout() -> None:
    [(index, message)] = budget_problems(runtime(handlers=[{"type": "db"}, http(3000)]))
    assert index == 1
    assert message == (
        "handler http: 3000 x 4 attempts + (100 + 200 + 300) backoff = 12600 ms per envelope "
        "exceeds rebalance_timeout_ms 10000"
    )


def test_every_attempt_may_wait_for_a_rate_limit_token_in_the_worst_case() -> None:
    [(_, message)] = budget_problems(runtime(handlers=[http(2000, rate_limit_per_second=5)]))
    assert message.startswith(
        "handler http: (2000 rate-limit wait + 2000) x 4 attempts + (100 + 200 + 300) "
        "backoff = 16600 ms per envelope"
    )


def test_a_fetched_batch_must_fit_the_poll_interval() -> None:
    bus = {"kind": "inmemory", "config": {"rebalance_timeout_ms": 60000}}
    section = runtime(event_bus=bus, max_concurrent_operations=2, handlers=[http(2000)])
    [(_, message)] = budget_problems(section)
    # batch 2000 // 4 = 500 over 2 slots = 250 rounds x 8600 ms
    assert message.endswith(
        f"x 250 (batch 500 / max_concurrent_operations 2) = 2150000 ms exceeds the poll "
        f"interval {MAX_POLL_INTERVAL_MS} ms"
    )


def test_the_loader_refuses_an_unfit_budget_with_file_line_and_arithmetic(tmp_path: Path) -> None:
    path = tmp_path / "runtime.yaml"
    path.write_text(CONTRACT.format(rebalance=10000, inflight=2000, concurrency=1, timeout=3000))
    with pytest.raises(ContractValidationError) as raised:
        load_runtime_contract(path, env={})
    text = str(raised.value)
    assert "12600 ms per envelope exceeds rebalance_timeout_ms 10000" in text
    assert str(path) in text
    assert raised.value.line == 14  # the retry_policy key
    assert "at line 14" in text


def test_the_loader_accepts_a_budget_that_fits(tmp_path: Path) -> None:
    path = tmp_path / "runtime.yaml"
    path.write_text(CONTRACT.format(rebalance=60000, inflight=80, concurrency=4, timeout=3000))
    assert load_runtime_contract(path, env={}).runtime.handlers[0].config.retry_policy is not None
