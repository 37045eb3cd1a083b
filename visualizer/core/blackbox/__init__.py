"""Black-box access: the query oracle and the attacks that use only it."""

from visualizer.core.blackbox.oracle import (
    Oracle, OracleSpec, QueryBudgetExhausted, ReverseSigmoid, parse_defence, parse_oracle_spec,
)

__all__ = ["Oracle", "OracleSpec", "QueryBudgetExhausted", "ReverseSigmoid", "parse_defence", "parse_oracle_spec"]
