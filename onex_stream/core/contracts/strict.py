"""StrictModel: the one pydantic base of every contract model (unknown keys refused, frozen)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A contract model: unknown keys are validation errors and instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
