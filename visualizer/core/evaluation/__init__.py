"""Robustness of models over a data set: threat specs (``threats``), each threat's attacks on
a batch (``ensemble``, ``autoattack``), one batch through every model (``batch``), the run
over batches and processes (``run``, ``distributed``), resumable state (``store``), records,
confidence intervals and sanity relations (``records``, ``relations``), gradient-masking
checks (``checks``), the most confident failures (``gallery``) and the output files
(``output``, ``figures``)."""

from visualizer.core.evaluation.records import COLUMNS, BatchRecord, Evaluation
from visualizer.core.evaluation.relations import wilson_interval
from visualizer.core.evaluation.run import BatchesFinished, evaluate, settings_fingerprint
from visualizer.core.evaluation.batch import AttackProgress
from visualizer.core.evaluation.store import RunStore
from visualizer.core.evaluation.threats import THREAT_FORMS, AttackSpec, Threat, parse_threat, parse_threats

__all__ = ["COLUMNS", "THREAT_FORMS", "AttackProgress", "AttackSpec", "BatchRecord", "BatchesFinished", "Evaluation",
           "RunStore", "Threat", "evaluate", "parse_threat", "parse_threats", "settings_fingerprint",
           "wilson_interval"]
