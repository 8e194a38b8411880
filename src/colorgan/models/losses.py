"""Training losses: the chroma reconstruction loss of both stages (L1 or Huber), the colorfulness-matching
term, the adversarial losses (vanilla/BCE, LSGAN, hinge) for patch logits, and the R1 gradient penalty."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from colorgan.errors import UserError
from colorgan.metrics.colorfulness import colorfulness

CHROMA_LOSSES = ("l1", "huber")
#: what `ColorfulnessLoss` matches: each image's colorfulness, or the batch's mean colorfulness
COLORFULNESS_MATCHES = ("image", "batch")
ADVERSARIAL_LOSSES = ("vanilla", "lsgan", "hinge")


class ChromaLoss:
    """Mean L1 or Huber (smooth L1 with ``huber_delta``) between predicted and true normalized chroma.

    The one reconstruction loss of both stages: stage 1's objective, the GAN's λ·reconstruction term and
    both stages' ``val/loss``. Computed in float32 whatever the autocast dtype.

    Example:
        >>> import torch
        >>> ChromaLoss("l1")(torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)).item()
        1.0
        >>> huber = ChromaLoss("huber", huber_delta=0.5)
        >>> huber(torch.zeros(1, 2, 2, 2), torch.full((1, 2, 2, 2), 0.5)).item()
        0.25
    """

    def __init__(self, kind: str = "l1", huber_delta: float = 0.05) -> None:
        if kind not in CHROMA_LOSSES:
            raise UserError(f"model.loss must be one of {', '.join(CHROMA_LOSSES)}, got {kind!r}")
        if not float(huber_delta) > 0:
            raise UserError(f"model.huber_delta must be > 0, got {huber_delta!r}")
        self.kind = kind
        self.huber_delta = float(huber_delta)

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        pred, target = pred.float(), target.float()
        if self.kind == "huber":
            return F.smooth_l1_loss(pred, target, beta=self.huber_delta)
        return F.l1_loss(pred, target)

    def __repr__(self) -> str:
        delta = f", huber_delta={self.huber_delta}" if self.kind == "huber" else ""
        return f"ChromaLoss(kind={self.kind!r}{delta})"


class ColorfulnessLoss:
    """|CF(pred) − CF(true)| / 100, with CF Hasler & Süsstrunk's colorfulness
    (`colorgan.metrics.colorfulness`, 0..255 scale) of each whole RGB image: averaged over the images
    (``match="image"``), or taken between the batch's mean colorfulnesses (``match="batch"``, what the ΔCF
    metric compares: each image may then be more or less colorful than its truth, as long as the batch as
    a whole is as colorful as the truth's).

    A per-pixel loss (L1) averages the colors a gray patch could have, so a model that is unsure paints it
    dull; this term asks each image to be as colorful as its truth without saying where the color goes
    (DDColor trains with a one-sided colorfulness loss; this one is matched to the truth, so over-saturated
    images are penalized too). Differentiable through the color space's conversion to RGB; float32.

    Example:
        >>> import torch
        >>> gray, red = torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4)
        >>> red[:, 0] = 1.0
        >>> round(ColorfulnessLoss()(gray, red).item(), 3)  # CF(red) = 0.3 · sqrt(255² + 127.5²) / 100
        0.855
    """

    def __init__(self, match: str = "image") -> None:
        if match not in COLORFULNESS_MATCHES:
            raise UserError(f"model.colorfulness_match must be one of {', '.join(COLORFULNESS_MATCHES)}, got "
                            f"{match!r}")
        self.match = match

    def __call__(self, rgb_pred: Tensor, rgb_true: Tensor) -> Tensor:
        difference = colorfulness(rgb_pred.float()) - colorfulness(rgb_true.float())
        if self.match == "batch":
            return difference.mean().abs() / 100.0
        return difference.abs().mean() / 100.0

    def __repr__(self) -> str:
        return f"ColorfulnessLoss(match={self.match!r})"


class AdversarialLoss:
    """The discriminator's and the generator's losses on logit maps of any shape, computed in float32.

    ``real_label`` < 1 is one-sided label smoothing: the discriminator's target for real patches (fake
    patches keep target 0, and the generator still aims at 1). Hinge has no targets, so no smoothing.
    """

    def __init__(self, kind: str = "vanilla", real_label: float = 1.0) -> None:
        if kind not in ADVERSARIAL_LOSSES:
            raise ValueError(
                f"unknown adversarial loss {kind!r}: choose one of {', '.join(ADVERSARIAL_LOSSES)}"
            )
        if not 0.5 < float(real_label) <= 1.0:
            raise ValueError(
                f"real_label (one-sided label smoothing) must be in (0.5, 1], got {real_label!r}"
            )
        if kind == "hinge" and real_label != 1.0:
            raise ValueError("label smoothing (real_label < 1) is not defined for the hinge loss; use 1.0")
        self.kind = kind
        self.real_label = float(real_label)

    @property
    def threshold(self) -> float:
        """The logit above which the discriminator calls a patch real (for its accuracy)."""
        return 0.5 if self.kind == "lsgan" else 0.0

    def _toward(self, logits: Tensor, target: float) -> Tensor:
        """Mean loss pushing logits toward ``target`` (1 = real, 0 = fake) for vanilla and LSGAN."""
        if self.kind == "vanilla":
            return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
        return F.mse_loss(logits, torch.full_like(logits, target))

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
        """(loss on real patches, loss on fake patches); the discriminator minimizes their sum."""
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        if self.kind == "hinge":
            return F.relu(1.0 - real_logits).mean(), F.relu(1.0 + fake_logits).mean()
        return self._toward(real_logits, self.real_label), self._toward(fake_logits, 0.0)

    def generator(self, fake_logits: Tensor) -> Tensor:
        """The generator's loss: make the discriminator call its output real."""
        fake_logits = fake_logits.float()
        if self.kind == "hinge":
            return -fake_logits.mean()
        return self._toward(fake_logits, 1.0)

    def accuracy(self, real_logits: Tensor, fake_logits: Tensor) -> tuple[Tensor, Tensor]:
        """Fraction of real patches called real, fraction of fake patches called fake."""
        real_ok = (real_logits.detach().float() > self.threshold).float().mean()
        fake_ok = (fake_logits.detach().float() <= self.threshold).float().mean()
        return real_ok, fake_ok

    def __repr__(self) -> str:
        return f"AdversarialLoss(kind={self.kind!r}, real_label={self.real_label})"


def r1_penalty(real_logits: Tensor, real_inputs: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): mean over the batch of ||d sum(logits) / d input||² on real data.

    ``real_inputs`` must require grad and ``real_logits`` must have been computed from it; the penalty
    keeps its graph, so it can be added to the discriminator's loss and backpropagated.
    """
    if not real_inputs.requires_grad:
        raise ValueError("r1_penalty needs the real inputs to require grad (call .requires_grad_() first)")
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_inputs, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()
