"""Networks: timm encoder with offline weights, U-Net colorizer, PatchGAN discriminator, losses."""

from .decoder import UNetDecoder
from .discriminator import PatchDiscriminator
from .encoder import Encoder
from .generator import UNetColorizer
from .losses import ADVERSARIAL_LOSSES, CHROMA_LOSSES, AdversarialLoss, ChromaLoss, r1_penalty
from .weights import WeightsError, resolve_encoder_weights

__all__ = [
    "ADVERSARIAL_LOSSES",
    "CHROMA_LOSSES",
    "AdversarialLoss",
    "ChromaLoss",
    "Encoder",
    "PatchDiscriminator",
    "UNetColorizer",
    "UNetDecoder",
    "WeightsError",
    "r1_penalty",
    "resolve_encoder_weights",
]
