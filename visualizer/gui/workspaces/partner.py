"""Run on one standard model, the saliency and targeted-attack tabs add its robust partner
(core/models/partners.py: a loaded robust model of the same data set, L2-trained first), so
the comparison the product is about is the default; Run all is left as it is."""

from __future__ import annotations

from visualizer.core.lab_state import LabState, ModelEntry
from visualizer.core.models.bundled import bundled_card
from visualizer.core.models.partners import robust_partner


def _card(entry: ModelEntry) -> dict | None:
    info = entry.model.info
    return bundled_card(info.model_id) if info.source == "bundled" else None


def with_partner(entries: list[ModelEntry], state: LabState) -> tuple[list[ModelEntry], ModelEntry | None]:
    """``entries`` plus the partner of a lone standard model (and that partner), else as given."""
    if len(entries) != 1:
        return entries, None
    ready = [e for e in state.ready_models()]
    cards = {id(e): _card(e) for e in ready}
    keys = [id(e) for e in ready]
    chosen = robust_partner(id(entries[0]), keys, cards)
    partner = next((e for e in ready if id(e) == chosen), None)
    return (entries + [partner], partner) if partner is not None else (entries, None)
