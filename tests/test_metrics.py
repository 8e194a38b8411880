"""Metrics: CIEDE2000 against the published reference data, and each image metric against hand values."""

from __future__ import annotations

import math

import kornia.color as kc
import pytest
import torch

from colorgan.color import rgb_to_gray
from colorgan.metrics import (
    ab_error_auc,
    ciede2000,
    colorfulness,
    delta_e00,
    gray_baseline,
    image_metrics,
    mean_chroma_baseline,
    psnr,
    ssim,
)

# Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1 L2 a2 b2 -> ΔE00.
SHARMA_TABLE = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]


def sharma_pairs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    table = torch.tensor(SHARMA_TABLE, dtype=torch.float64)
    return table[:, 0:3], table[:, 3:6], table[:, 6]


def random_rgb(seed: int, size: int = 16, batch: int = 2) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_ciede2000_reproduces_the_34_published_pairs() -> None:
    lab1, lab2, expected = sharma_pairs()
    assert len(expected) == 34
    got = ciede2000(lab1, lab2)
    assert got.shape == (34,)
    assert torch.allclose(got, expected, atol=5e-5, rtol=0.0), (got - expected).abs().max()


def test_ciede2000_is_symmetric_and_zero_on_identity() -> None:
    lab1, lab2, _ = sharma_pairs()
    assert torch.allclose(ciede2000(lab1, lab2), ciede2000(lab2, lab1), atol=1e-10)
    images = kc.rgb_to_lab(random_rgb(0).double()), kc.rgb_to_lab(random_rgb(1).double())
    assert torch.allclose(ciede2000(*images), ciede2000(*reversed(images)), atol=1e-10)
    assert ciede2000(images[0], images[0]).abs().max().item() == 0.0


def test_ciede2000_image_layout_matches_pixel_layout_and_agrees_with_skimage() -> None:
    lab1, lab2 = kc.rgb_to_lab(random_rgb(2).double()), kc.rgb_to_lab(random_rgb(3).double())
    per_pixel = ciede2000(lab1, lab2)
    assert per_pixel.shape == (2, 16, 16)
    flat = ciede2000(lab1.permute(0, 2, 3, 1).reshape(-1, 3), lab2.permute(0, 2, 3, 1).reshape(-1, 3))
    assert torch.allclose(per_pixel.flatten(), flat, atol=1e-12)
    skimage_color = pytest.importorskip("skimage.color")
    reference = skimage_color.deltaE_ciede2000(
        lab1.permute(0, 2, 3, 1).numpy(), lab2.permute(0, 2, 3, 1).numpy()
    )
    assert torch.allclose(per_pixel, torch.from_numpy(reference), atol=1e-8)


def test_ciede2000_gradients_are_finite_at_identity_and_zero_chroma() -> None:
    lab = torch.tensor([[50.0, 0.0, 0.0], [50.0, 10.0, -5.0], [0.0, 0.0, 0.0]], requires_grad=True)
    other = torch.tensor([[50.0, 0.0, 0.0], [50.0, 10.0, -5.0], [20.0, 0.0, 3.0]])
    ciede2000(lab, other).sum().backward()
    assert torch.isfinite(lab.grad).all()


def test_ciede2000_rejects_mismatched_or_non_lab_input() -> None:
    with pytest.raises(ValueError, match="same shape"):
        ciede2000(torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="shape"):
        ciede2000(torch.zeros(4, 2), torch.zeros(4, 2))


def test_psnr_identity_is_capped_and_constant_offset_is_20_db() -> None:
    rgb = random_rgb(4) * 0.8
    assert torch.equal(psnr(rgb, rgb), torch.full((2,), 100.0))
    assert torch.equal(psnr(rgb, rgb, max_db=60.0), torch.full((2,), 60.0))
    # MSE = 0.1^2 -> 10 log10(1 / 0.01) = 20 dB
    assert torch.allclose(psnr(rgb + 0.1, rgb), torch.full((2,), 20.0), atol=1e-4)
    assert torch.allclose(
        psnr(255 * (rgb + 0.1), 255 * rgb, data_range=255.0), torch.full((2,), 20.0), atol=1e-3
    )


def test_psnr_is_per_image() -> None:
    target = torch.zeros(2, 3, 8, 8)
    pred = target.clone()
    pred[1] += 0.01  # only the second image differs: 10 log10(1 / 1e-4) = 40 dB
    assert torch.allclose(psnr(pred, target), torch.tensor([100.0, 40.0]), atol=1e-3)


def test_ssim_identity_noise_and_size_check() -> None:
    rgb = random_rgb(5, size=32)
    assert torch.allclose(ssim(rgb, rgb), torch.ones(2), atol=1e-5)
    noisy = (rgb + 0.2 * torch.randn(rgb.shape, generator=torch.Generator().manual_seed(6))).clamp(0, 1)
    scores = ssim(noisy, rgb)
    assert scores.shape == (2,) and (scores < 0.9).all()
    with pytest.raises(ValueError, match="at least"):
        ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_colorfulness_of_gray_is_zero_and_of_red_blue_halves_matches_hand_value() -> None:
    assert torch.allclose(colorfulness(gray_baseline(random_rgb(7))), torch.zeros(2), atol=1e-3)
    image = torch.zeros(1, 3, 4, 4)
    image[:, 0, :, :2] = 1.0  # left half pure red
    image[:, 2, :, 2:] = 1.0  # right half pure blue
    # per pixel, 0..255: red -> rg = 255, yb = 127.5; blue -> rg = 0, yb = -255 (half the pixels each)
    mean_rg, mean_yb = (255 + 0) / 2, (127.5 - 255) / 2
    std_rg, std_yb = (255 - 0) / 2, (127.5 + 255) / 2
    expected = math.hypot(std_rg, std_yb) + 0.3 * math.hypot(mean_rg, mean_yb)
    assert colorfulness(image).item() == pytest.approx(expected, rel=1e-5)


def lab_pixels(*colors: tuple[float, float, float]) -> torch.Tensor:
    lab = torch.tensor(colors, dtype=torch.float64).T.reshape(1, 3, len(colors), 1)
    return kc.lab_to_rgb(lab, clip=False)


def test_ab_error_auc_identity_and_constant_error_of_75() -> None:
    rgb = random_rgb(8)
    assert torch.allclose(ab_error_auc(rgb, rgb), torch.ones(2))
    # two in-gamut colors with the same L and |Δab| = 75 -> the CDF steps at 75 of 150: area one half
    pred = lab_pixels((60.0, 37.5, 0.0), (60.0, 37.5, 0.0))
    target = lab_pixels((60.0, -37.5, 0.0), (60.0, -37.5, 0.0))
    assert ab_error_auc(pred, target).item() == pytest.approx(0.5, abs=1e-4)
    assert ab_error_auc(pred, target, max_threshold=75.0).item() == pytest.approx(0.0, abs=1e-4)


def test_ab_error_auc_matches_the_discrete_threshold_sweep() -> None:
    pred, target = random_rgb(9), random_rgb(10)
    ab_error = (kc.rgb_to_lab(pred)[:, 1:] - kc.rgb_to_lab(target)[:, 1:]).norm(dim=1).flatten(1)
    thresholds = torch.arange(0, 151, dtype=torch.float32)
    cdf = (ab_error[:, :, None] <= thresholds).float().mean(dim=1)  # [B, 151]
    discrete = torch.trapezoid(cdf, thresholds, dim=1) / 150.0
    assert torch.allclose(ab_error_auc(pred, target), discrete, atol=1.0 / 150.0)


def test_delta_e00_is_zero_on_identity_and_positive_otherwise() -> None:
    rgb = random_rgb(11)
    assert torch.allclose(delta_e00(rgb, rgb), torch.zeros(2))
    shifted = delta_e00(gray_baseline(rgb), rgb)
    assert shifted.shape == (2,) and (shifted > 1.0).all()


def test_gray_baseline_has_no_chroma_and_keeps_rec601_luma() -> None:
    rgb = random_rgb(12)
    gray = gray_baseline(rgb)
    assert gray.shape == rgb.shape
    assert torch.equal(gray[:, 0], gray[:, 1]) and torch.equal(gray[:, 1], gray[:, 2])
    assert torch.allclose(rgb_to_gray(gray), rgb_to_gray(rgb), atol=1e-6)


def test_mean_chroma_baseline_keeps_gray_lightness_and_paints_the_constant_ab() -> None:
    rgb = 0.3 + 0.4 * random_rgb(13)  # mid-tones, so a small (a, b) stays inside the gamut
    mean_ab = (4.0, 12.0)
    painted = kc.rgb_to_lab(mean_chroma_baseline(rgb, mean_ab))
    gray_lightness = kc.rgb_to_lab(gray_baseline(rgb))[:, 0]
    assert torch.allclose(painted[:, 0], gray_lightness, atol=0.05)
    assert torch.allclose(painted[:, 1], torch.full_like(painted[:, 1], 4.0), atol=0.05)
    assert torch.allclose(painted[:, 2], torch.full_like(painted[:, 2], 12.0), atol=0.05)


def test_image_metrics_returns_every_key_per_image() -> None:
    pred, target = random_rgb(14, size=24), random_rgb(15, size=24)
    metrics = image_metrics(pred, target)
    assert set(metrics) == {
        "psnr",
        "ssim",
        "deltae00",
        "ab_auc",
        "colorfulness",
        "colorfulness_true",
        "delta_colorfulness",
    }
    for value in metrics.values():
        assert value.shape == (2,) and torch.isfinite(value).all()
    assert torch.allclose(
        metrics["delta_colorfulness"], metrics["colorfulness"] - metrics["colorfulness_true"]
    )
    assert torch.allclose(metrics["deltae00"], delta_e00(pred, target))
    assert torch.allclose(metrics["ab_auc"], ab_error_auc(pred, target))
    perfect = image_metrics(target, target)
    assert torch.allclose(perfect["deltae00"], torch.zeros(2))
    assert torch.allclose(perfect["ab_auc"], torch.ones(2))


def test_metrics_reject_mismatched_or_non_image_input() -> None:
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        colorfulness(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="floating point"):
        delta_e00(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
