"""Results and progress events of a query attack: the white-box types (attacks/result.py)
plus the queries each image cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from visualizer.core.attacks.result import AttackResult, AttackStep


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
    axis of loss against queries. ``oracle``: the oracle's description (Oracle.describe)."""

    queries: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    history_queries: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0, dtype=torch.long))
    oracle: dict = field(default_factory=dict)
    budget_exhausted: bool = False     # the oracle's own (total) budget ran out mid-attack

    def queries_at_success(self) -> torch.Tensor:
        """Query counts of the successful images (float, for medians and means)."""
        return self.queries[self.success.cpu()].double() if self.queries.numel() else torch.zeros(0)
