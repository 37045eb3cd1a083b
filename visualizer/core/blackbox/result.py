"""Results and progress events of a query attack: the white-box types (attacks/result.py)
plus the queries each image cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from visualizer.core.attacks.result import AttackResult, AttackStep


# Why a query attack ended on an image (result.json's queries.stop_reason).
STOP_SUCCESS = "success"
STOP_BUDGET = "per-image budget spent"
STOP_ORACLE_BUDGET = "oracle budget ran out"
STOP_CANCELLED = "cancelled"
STOP_FEW_LEFT = "too few queries left for another step"
STOP_NO_START = "no adversarial starting point"
STOP_REASONS = (STOP_SUCCESS, STOP_BUDGET, STOP_ORACLE_BUDGET, STOP_CANCELLED, STOP_FEW_LEFT, STOP_NO_START)


@dataclass
class QueryStep(AttackStep):
    """One batch of queries answered. ``done``/``total``: the most queries any image has
    spent so far / the per-image budget; ``loss``: the margin objective (positive once the
    attack succeeds, see common.objective); ``queries``: N, queries spent per image."""

    queries: torch.Tensor | None = None


@dataclass
class QueryAttackResult(AttackResult):
    """An AttackResult whose iterates are query batches. ``queries`` (N, int64): oracle
    queries spent per image, the clean query included; an image stops being queried when its
    attack succeeds, so for a successful image this is its query count at success.
    ``history_queries`` (iterates x N): queries spent per image at each history row, the x
    axis of loss against queries. ``oracle``: the oracle's description (Oracle.describe).
    ``stop_reasons``: one of STOP_REASONS per image (HopSkipJump, say, ends an image with
    budget left when its next gradient estimate would not fit)."""

    queries: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    history_queries: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0, dtype=torch.long))
    oracle: dict = field(default_factory=dict)
    budget_exhausted: bool = False     # the oracle's own (total) budget ran out mid-attack
    stop_reasons: list[str] = field(default_factory=list)

    def queries_at_success(self) -> torch.Tensor:
        """Query counts of the successful images (float, for medians and means)."""
        return self.queries[self.success.cpu()].double() if self.queries.numel() else torch.zeros(0)
