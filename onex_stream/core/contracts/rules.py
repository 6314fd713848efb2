"""Validator rule ids and findings: one located error or warning per broken rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from onex_stream.core.errors import ContractValidationError


class EnumSeverity(StrEnum):
    """An error fails the validation (and the start); a warning only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


#: Rule id -> what it checks (the README's rule table lists the same).
RULES = {
    "ONEX001": "schema: YAML, fields, types, schema version, ${VAR} expansion, node files",
    "ONEX002": "no embedded secrets: credentials are referenced (*_ref, ${VAR}), never written",
    "ONEX003": "no local handler in prod (dev/test only)",
    "ONEX004": "topic naming: onex.<namespace>.<domain>.<signal>.v<N>, no reserved namespace",
    "ONEX005": "every declared operation is supported by an enabled handler",
    "ONEX006": "every enabled handler type has an implementation",
    "ONEX007": "no create_topics in prod",
    "ONEX008": "secret references are well formed and of a scheme their consumer reads",
    "ONEX009": "event bus limits: a dead letter fits within max_record_bytes",
    "ONEX010": "contract warnings: valid, but probably not what was meant",
    "ONEX011": "retry budgets: a handler's worst case fits the consumer's rebalance timeout",
    "ONEX012": "exactly_once only on a bus with transactions (kafka, not inmemory)",
}


@dataclass(frozen=True)
class Finding:
    """A broken rule, located in its contract file (line, hint and action)."""

    rule: str
    error: ContractValidationError
    severity: EnumSeverity = EnumSeverity.ERROR

    def as_json(self) -> dict[str, Any]:
        """The finding for ``--format json``."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.error.file,
            "line": self.error.line,
            "message": self.error.error,
            "hint": self.error.hint,
            "action": self.error.action,
        }

    def render(self) -> str:
        """The finding as text: the rule and severity, then the located message."""
        return f"{self.rule} {self.severity.value}\n{self.error.message}"


def classify(error: ContractValidationError) -> Finding:
    """The rule a loader finding breaks (schema unless it is about secrets, topics, limits)."""
    text = error.error
    if text.startswith("Literal secret"):
        rule = "ONEX002"
    elif text.startswith("Malformed secret reference") or "_ref'" in text:
        rule = "ONEX008"
    elif "rebalance timeout" in error.hint:
        rule = "ONEX011"
    elif "max_envelope_bytes" in text:
        rule = "ONEX009"
    elif "topic '" in text or ".topics" in text or ".subscriptions" in text:
        rule = "ONEX004"
    else:
        rule = "ONEX001"
    return Finding(rule, error)


def warning(file: str, text: str) -> Finding:
    """A contract warning (ONEX010) as a finding."""
    return Finding(
        "ONEX010",
        ContractValidationError(text, file=file, hint="", action="Review the contract"),
        EnumSeverity.WARNING,
    )
