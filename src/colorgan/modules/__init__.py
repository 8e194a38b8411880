"""LightningModules: stage 1 regression (`RegressionModule`), stage 2 GAN (`GANModule`), their shared base
(`ColorizationModule`), the non-finite loss guard, sample panels and learning-rate schedules."""

from colorgan.modules.base import ColorizationModule
from colorgan.modules.gan import GANModule
from colorgan.modules.nonfinite import NonFiniteGuard, NonFiniteLossError
from colorgan.modules.panels import SamplePanels, colorization_panel
from colorgan.modules.regression import RegressionModule

__all__ = [
    "ColorizationModule",
    "GANModule",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "RegressionModule",
    "SamplePanels",
    "colorization_panel",
]
