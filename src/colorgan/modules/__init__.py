"""LightningModules (stage 1 regression, stage 2 GAN) and their callbacks."""

from colorgan.modules.base import ColorizationModule
from colorgan.modules.colorizer import ColorizerModule
from colorgan.modules.gan import ColorGANModule
from colorgan.modules.panels import SamplePanels, colorization_panel, panel_grid

__all__ = [
    "ColorGANModule",
    "ColorizationModule",
    "ColorizerModule",
    "SamplePanels",
    "colorization_panel",
    "panel_grid",
]
