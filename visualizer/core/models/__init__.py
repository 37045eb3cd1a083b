"""Model sources and the pixels-in / logits-out wrapper."""

from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing

__all__ = ["ClassifierModel", "ModelInfo", "Preprocessing"]
