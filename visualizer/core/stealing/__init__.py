"""Model stealing through a prediction API (``visualizer steal``): what the thief sends
(``queries``: another data set's images, noise, Papernot et al.'s Jacobian augmentation),
the substitute trained on the answers with the project's trainer (``substitute``), the
experiment over query counts and victim-side defences with agreement, accuracy and PGD
transfer to the victim (``run``), its settings (``spec``) and files (``output``). The thief
sees the victim only through ``core.blackbox.Oracle``."""

from visualizer.core.stealing.output import write_steal
from visualizer.core.stealing.queries import QuerySource, parse_query_source
from visualizer.core.stealing.run import StealProgress, agreement, run_steal
from visualizer.core.stealing.spec import StealConfig, parse_defences, parse_query_counts

__all__ = ["QuerySource", "StealConfig", "StealProgress", "agreement", "parse_defences", "parse_query_counts",
           "parse_query_source", "run_steal", "write_steal"]
