"""Model sources and the pixels-in / logits-out wrapper."""

from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import (BundledModelEntry, bundled_models, describe_sources, load_model,
                                             parse_model_spec)

__all__ = ["ClassifierModel", "ModelInfo", "Preprocessing", "LoadOptions", "BundledModelEntry", "load_model",
           "parse_model_spec", "bundled_models", "describe_sources"]
