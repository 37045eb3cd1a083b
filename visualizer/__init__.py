"""Adversarial Visualizer: see how brittle image classifiers are and how robust models differ."""

__version__ = "0.1.0"
