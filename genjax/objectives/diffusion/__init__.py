"""Diffusion models: noise schedules, training losses, compiled samplers and the bits/dim bound."""

from genjax.objectives.diffusion.schedules import (
    NoiseSchedule,
    cosine_schedule,
    linear_schedule,
    make_schedule,
)

__all__ = ["NoiseSchedule", "cosine_schedule", "linear_schedule", "make_schedule"]
