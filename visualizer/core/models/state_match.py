"""Fitting a checkpoint's tensors to an architecture's parameter names.

Published checkpoints wrap the weights in many ways: under "model" or "state_dict",
behind DataParallel's "module.", inside MadryLab's ``module.model.*`` next to an attacker
copy and a normaliser, or as ``Sequential(normalize, model)`` in RobustBench. Rather than
list every layout, we find the key prefix under which most of the architecture's keys
appear, and read normalisation constants (mean/std, mu/sigma, new_mean/new_std) from
whatever sits outside the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import nn

from visualizer.core.errors import ModelLoadError

# Where training scripts put the weights inside a checkpoint dict, most specific first.
CONTAINER_KEYS = ("model", "state_dict", "model_state_dict", "net", "network", "module",
                  "state_dict_ema", "model_ema", "ema")
# Normaliser buffer names, as (mean-like, std-like) pairs.
NORM_PAIRS = (("new_mean", "new_std"), ("mean", "std"), ("mu", "sigma"))
SHOWN = 10


@dataclass
class MatchResult:
    state_dict: dict[str, torch.Tensor]          # keyed like the architecture
    prefix: str
    hits: int = 0                                # architecture keys found in the file
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    notes: list[str] = field(default_factory=list)


def extract_state_dict(obj: Any, depth: int = 0) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The tensors of a checkpoint object (state dict, wrapper dict or whole module)."""
    if isinstance(obj, nn.Module):
        return dict(obj.state_dict()), ["The file held a whole pickled model; its weights were used."]
    if not isinstance(obj, Mapping):
        raise ModelLoadError(f"The checkpoint holds a {type(obj).__name__}, not a dictionary of weights.")
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if tensors and len(tensors) * 2 >= len(obj):
        skipped = len(obj) - len(tensors)
        return tensors, ([f"{skipped} non-tensor entries in the weights were skipped."] if skipped else [])
    if depth < 2:
        for key in CONTAINER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, (Mapping, nn.Module)):
                try:
                    found, notes = extract_state_dict(inner, depth + 1)
                except ModelLoadError:
                    continue
                return found, [f"Weights taken from the checkpoint's {key!r} entry."] + notes
    keys = ", ".join(repr(k) for k in list(obj)[:12])
    raise ModelLoadError(
        f"No weights found in the checkpoint. Its top-level entries are: {keys}. "
        f"Expected a state dict, or one under one of: {', '.join(CONTAINER_KEYS)}."
    )


def best_prefix(keys: list[str], expected: set[str]) -> tuple[str, int]:
    """The prefix p for which the most expected keys appear as p + key (ties: shortest p,
    so MadryLab's module.model.* wins over its module.attacker.model.* copy)."""
    counts: dict[str, int] = {}
    for key in keys:
        starts = [0] + [i + 1 for i, ch in enumerate(key) if ch == "."]
        for start in starts:
            if key[start:] in expected:
                counts[key[:start]] = counts.get(key[:start], 0) + 1
    if not counts:
        return "", 0
    prefix = max(counts, key=lambda p: (counts[p], -len(p)))
    return prefix, counts[prefix]


def _normaliser(candidates: dict[str, torch.Tensor]) -> tuple[tuple | None, tuple | None, str | None, list[str]]:
    """Mean/std from normaliser buffers among keys the architecture does not use."""
    pairs = []
    for key, value in candidates.items():
        parent, _, leaf = key.rpartition(".")
        for mean_name, std_name in NORM_PAIRS:
            if leaf != mean_name:
                continue
            std_key = f"{parent}.{std_name}" if parent else std_name
            std = candidates.get(std_key)
            if std is not None and value.numel() in (1, 3) and std.numel() == value.numel():
                pairs.append((key, std_key, value, std))
    if not pairs:
        return None, None, None, []
    pairs.sort(key=lambda p: len(p[0]))
    mean_key, std_key, mean, std = pairs[0]
    mean_t = tuple(float(v) for v in mean.flatten())
    std_t = tuple(float(v) for v in std.flatten())
    used = [k for p in pairs for k in p[:2]]
    if any(s <= 0 for s in std_t):
        return None, None, None, used
    return mean_t, std_t, mean_key.rpartition(".")[0] or "(top level)", used


def match_state_dict(ckpt: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor],
                     ignorable_prefixes: tuple[str, ...] = ()) -> MatchResult:
    expected_keys = set(expected)
    keys = list(ckpt)
    prefix, hits = best_prefix(keys, expected_keys)
    inside = {k[len(prefix):]: v for k, v in ckpt.items() if k.startswith(prefix)}
    outside = {k: v for k, v in ckpt.items() if not k.startswith(prefix)}
    mapped = {k: v for k, v in inside.items() if k in expected_keys}
    leftovers = {k: v for k, v in inside.items() if k not in expected_keys}

    result = MatchResult(state_dict=mapped, prefix=prefix, hits=hits)
    if prefix:
        result.notes.append(f"Checkpoint keys carry the prefix {prefix!r}; it was stripped.")
    mean, std, where, used = _normaliser({**leftovers, **outside})
    if mean is not None:
        result.mean, result.std = mean, std
        result.notes.append(f"Normalisation read from the checkpoint ({where}): mean={_fmt(mean)}, std={_fmt(std)}.")
    used_set = set(used)
    ignored_outside = [k for k in outside if k not in used_set]
    if ignored_outside:
        result.notes.append(f"{len(ignored_outside)} checkpoint entries outside {prefix!r} were ignored "
                            f"(e.g. {', '.join(ignored_outside[:3])}).")
    ignorable = [k for k in leftovers if k.startswith(ignorable_prefixes) and k not in used_set]
    if ignorable:
        result.notes.append(f"{len(ignorable)} entries for modules this architecture never uses were ignored "
                            f"(e.g. {ignorable[0]}).")
    result.unexpected = [k for k in leftovers if k not in used_set and k not in ignorable]

    missing = [k for k in expected if k not in mapped]
    # Old checkpoints predate BatchNorm's step counter; it does not affect evaluation.
    counters = [k for k in missing if k.endswith("num_batches_tracked")]
    for key in counters:
        mapped[key] = expected[key].clone()
    result.missing = [k for k in missing if k not in counters]
    return result


def load_matched(net: nn.Module, match: MatchResult, arch_label: str) -> None:
    """Load exactly, or raise one ModelLoadError listing every disagreement."""
    own = net.state_dict()
    mismatched = [f"{k}: file {list(v.shape)} vs architecture {list(own[k].shape)}"
                  for k, v in match.state_dict.items() if k in own and v.shape != own[k].shape]
    if match.missing or match.unexpected or mismatched:
        message = mismatch_message(arch_label, match.missing, match.unexpected, mismatched, match.prefix)
        found = match.hits - len(mismatched)
        if found * 2 < len(own):
            message = (f"Only {max(found, 0)} of the {len(own)} weights of {arch_label} were found in the file: "
                       f"it most likely holds a different network.\n{message}")
        raise ModelLoadError(message)
    try:
        net.load_state_dict(match.state_dict, strict=True)
    except RuntimeError as exc:  # e.g. dtype problems torch reports itself
        raise ModelLoadError(f"The checkpoint's weights do not fit {arch_label}: {exc}") from exc


def mismatch_message(arch_label: str, missing: list[str], unexpected: list[str],
                     mismatched: list[str], prefix: str = "") -> str:
    lines = [f"The checkpoint does not fit the architecture {arch_label}"
             + (f" (after stripping the key prefix {prefix!r})" if prefix else "") + ":"]
    if missing:
        lines.append(f"  {len(missing)} weights the architecture needs are missing from the file: {_list(missing)}")
    if unexpected:
        lines.append(f"  {len(unexpected)} weights in the file are not part of the architecture: {_list(unexpected)}")
    if mismatched:
        lines.append(f"  {len(mismatched)} weights have the wrong shape: {_list(mismatched)}")
    lines.append("Check that --arch names the network this file was trained with (and --num-classes, if given).")
    return "\n".join(lines)


def _list(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f", ... ({len(items) - SHOWN} more)" if len(items) > SHOWN else "")


def _fmt(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
