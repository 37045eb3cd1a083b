"""Training-time threats: backdoor poisoning (BadNets, clean-label) with a trigger, the rate
sweep behind ``visualizer poison``, and the spectral-signature detector."""

from visualizer.core.poisoning.config import ATTACKS, PoisonConfig
from visualizer.core.poisoning.sweep import RateDone, RateStarted, SweepReady, SweepResult, sweep_steps
from visualizer.core.poisoning.trigger import Trigger, apply_trigger, parse_trigger, stamp_images

__all__ = ["ATTACKS", "PoisonConfig", "RateDone", "RateStarted", "SweepReady", "SweepResult", "Trigger",
           "apply_trigger", "parse_trigger", "stamp_images", "sweep_steps"]
