"""Attacks: one gradient loop with threat-model step objects, and the spatial sweep."""

from visualizer.core.attacks.loop import attack_steps, drive, mapped, perturb, run_attack
from visualizer.core.attacks.params import AttackParams, parse_number
from visualizer.core.attacks.result import AttackResult, AttackStep
from visualizer.core.attacks.threat import L2Threat, LinfThreat, threat_for

__all__ = ["AttackParams", "AttackResult", "AttackStep", "L2Threat", "LinfThreat", "attack_steps", "drive",
           "mapped", "parse_number", "perturb", "run_attack", "threat_for"]
