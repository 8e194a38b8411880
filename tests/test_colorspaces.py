"""Every color space: exact round trips, normalized ranges, finite gradients, consistent model input."""

from __future__ import annotations

import kornia.color as kc
import pytest
import torch

from colorgan.color import ColorSpace, available_colorspaces, get_colorspace, rgb_to_gray

SPACES = available_colorspaces()
LUMA_KEEPING = {"lab", "yuv", "ycbcr", "luv"}
ONE_LEVEL = 1.0 / 255.0

EDGE_COLORS = [
    (0.0, 0.0, 0.0),  # black
    (1.0, 1.0, 1.0),  # white
    (1.0, 0.0, 0.0),
    (0.0, 1.0, 0.0),
    (0.0, 0.0, 1.0),  # primaries
    (1.0, 1.0, 0.0),
    (0.0, 1.0, 1.0),
    (1.0, 0.0, 1.0),  # secondaries
    (0.5, 0.5, 0.51),  # near gray
    (0.5, 0.5, 0.5),
    (1e-4, 0.0, 0.0),  # near black
    (1.0, 1.0, 0.999),  # near white
]


def as_image(colors: torch.Tensor) -> torch.Tensor:
    """[N, 3] colors -> a [1, 3, N, 1] image."""
    return colors.T.reshape(1, 3, -1, 1).contiguous()


def edge_image() -> torch.Tensor:
    return as_image(torch.tensor(EDGE_COLORS))


def random_image(seed: int = 0, size: int = 24) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, size, size, generator=generator)


def cube_grid(steps: int = 33) -> torch.Tensor:
    levels = torch.linspace(0.0, 1.0, steps)
    red, green, blue = torch.meshgrid(levels, levels, levels, indexing="ij")
    return as_image(torch.stack([red, green, blue], dim=-1).reshape(-1, 3))


@pytest.fixture(params=SPACES)
def space(request: pytest.FixtureRequest) -> ColorSpace:
    return get_colorspace(request.param)


def test_registry_lists_every_space_and_builds_it() -> None:
    assert set(SPACES) == {"lab", "yuv", "ycbcr", "luv", "hsv", "rgb"}
    for name in SPACES:
        assert get_colorspace(name.upper()).name == name


def test_unknown_name_raises_value_error_listing_the_spaces() -> None:
    with pytest.raises(ValueError) as info:
        get_colorspace("cmyk")
    message = str(info.value)
    assert "cmyk" in message
    for name in SPACES:
        assert name in message


def test_shapes_and_declared_channels(space: ColorSpace) -> None:
    luma, chroma = space.split(random_image())
    assert luma.shape == (2, 1, 24, 24)
    assert chroma.shape == (2, space.chroma_channels, 24, 24)
    assert len(space.chroma_names) == space.chroma_channels
    assert space.chroma_channels == (3 if space.name in {"hsv", "rgb"} else 2)
    assert space.keeps_luma == (space.name in LUMA_KEEPING)


@pytest.mark.parametrize("make_image", [random_image, edge_image], ids=["random", "edge"])
def test_round_trip_within_one_level(space: ColorSpace, make_image) -> None:
    rgb = make_image()
    restored = space.merge(*space.split(rgb))
    assert (restored - rgb).abs().max().item() <= ONE_LEVEL


def test_whole_srgb_cube_normalizes_into_unit_range(space: ColorSpace) -> None:
    luma, chroma = space.split(cube_grid())
    for channels in (luma, chroma):
        assert channels.min().item() >= -1.0 - 1e-6
        assert channels.max().item() <= 1.0 + 1e-6
    # the range is used, not squeezed into a corner: every channel reaches at least half of it
    assert chroma.flatten(start_dim=2).abs().amax(dim=-1).min().item() > 0.5


def test_neutral_colors_have_zero_hue_chroma(space: ColorSpace) -> None:
    grays = torch.linspace(0.0, 1.0, 11).view(1, 1, 11, 1).expand(1, 3, 11, 1)
    _, chroma = space.split(grays)
    color_channels = {"hsv": chroma[:, :2], "rgb": chroma[:, :1] - chroma[:, 1:]}.get(space.name, chroma)
    assert color_channels.abs().max().item() < 1e-3


def test_split_gradients_are_finite_at_edge_colors(space: ColorSpace) -> None:
    rgb = torch.cat([edge_image(), as_image(torch.rand(8, 3))], dim=2).requires_grad_(True)
    luma, chroma = space.split(rgb)
    (luma.sum() + chroma.sum()).backward()
    assert torch.isfinite(rgb.grad).all()


@pytest.mark.parametrize("luma_value", [-1.0, 0.0, 1.0])
def test_merge_gradients_are_finite_even_for_wild_predictions(space: ColorSpace, luma_value: float) -> None:
    channels = space.chroma_channels
    _, real_chroma = space.split(edge_image())
    wild = torch.tensor([0.0, 1.0, -1.0, 1.5, -1.5, 1e3, -1e3, 1e-7]).view(1, 1, -1, 1)
    chroma = torch.cat(
        [real_chroma, wild.expand(1, channels, -1, 1), torch.randn(1, channels, 16, 1) * 2.0], dim=2
    ).requires_grad_(True)
    luma = torch.full((1, 1, chroma.shape[2], 1), luma_value, requires_grad=True)
    rgb = space.merge(luma, chroma)
    assert torch.isfinite(rgb).all()
    assert rgb.min().item() >= 0.0 and rgb.max().item() <= 1.0
    (rgb * torch.linspace(0.5, 1.5, rgb.numel()).view_as(rgb)).sum().backward()
    assert torch.isfinite(chroma.grad).all()
    assert luma.grad is None or torch.isfinite(luma.grad).all()


def test_luv_merge_stays_bounded_where_v_prime_vanishes() -> None:
    space = get_colorspace("luv")
    white_v_prime = 9.0 / (0.95047 + 15.0 + 3.0 * 1.08883)
    lightness = torch.tensor([50.0, 5.0, 0.5])
    vanishing_v = -white_v_prime * 13.0 * lightness / space.chroma_scale  # v' = 0 exactly
    luma = (lightness / 50.0 - 1.0).view(1, 1, 3, 1)
    chroma = (
        torch.stack([torch.full_like(vanishing_v, 0.1), vanishing_v]).view(1, 2, 3, 1).requires_grad_(True)
    )
    space.merge(luma, chroma).sum().backward()
    assert chroma.grad.abs().max().item() < 1e6


def test_gray_photo_gets_the_same_luma_as_its_gray_rgb(space: ColorSpace) -> None:
    gray = torch.rand(2, 1, 8, 8)
    gray[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.5])
    from_gray = space.luma_from_gray(gray)
    from_rgb, _ = space.split(gray.expand(2, 3, 8, 8))
    assert from_gray.shape == (2, 1, 8, 8)
    assert torch.allclose(from_gray, from_rgb, atol=1e-5)


def luminance_gray(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB-encoded CIE luminance Y: the gray that keeps each pixel's L*."""
    luminance = kc.rgb_to_xyz(kc.rgb_to_linear_rgb(rgb))[:, 1:2]
    return kc.linear_rgb_to_rgb(luminance.clamp(0.0, 1.0).expand_as(rgb))[:, :1]


def test_color_photo_luma_matches_its_black_and_white_version(space: ColorSpace) -> None:
    rgb = torch.cat([random_image().flatten(2).unsqueeze(-1), edge_image().expand(2, 3, -1, 1)], dim=2)
    luma, _ = space.split(rgb)
    if space.name in {"lab", "luv"}:
        # L* sees luminance; a Rec.601 gray photo of saturated colors differs (see LightnessChromaSpace)
        assert torch.allclose(luma, space.luma_from_gray(luminance_gray(rgb)), atol=1e-4)
        assert (luma - space.luma_from_gray(rgb_to_gray(rgb))).abs().max().item() > 0.1
    else:
        assert torch.allclose(luma, space.luma_from_gray(rgb_to_gray(rgb)), atol=1e-5)


@pytest.mark.parametrize("name", sorted(LUMA_KEEPING))
def test_merge_keeps_the_luma_for_in_gamut_chroma(name: str) -> None:
    space = get_colorspace(name)
    generator = torch.Generator().manual_seed(1)
    luma = torch.rand(2, 1, 16, 16, generator=generator) * 0.6 - 0.3
    chroma = torch.rand(2, space.chroma_channels, 16, 16, generator=generator) * 0.2 - 0.1
    relit, _ = space.split(space.merge(luma, chroma))
    assert (relit - luma).abs().max().item() < 2 * ONE_LEVEL
    # desaturating a real photo towards its own gray keeps its luma too
    photo_luma, photo_chroma = space.split(random_image(seed=2))
    relit, _ = space.split(space.merge(photo_luma, 0.5 * photo_chroma))
    assert (relit - photo_luma).abs().max().item() < 2 * ONE_LEVEL


def test_rgb_merge_ignores_luma_and_hsv_luma_is_rec601() -> None:
    rgb = random_image()
    space = get_colorspace("rgb")
    _, chroma = space.split(rgb)
    assert torch.allclose(space.merge(torch.zeros(2, 1, 24, 24), chroma), rgb, atol=1e-6)
    luma, _ = get_colorspace("hsv").split(rgb)
    assert torch.allclose(luma, 2.0 * rgb_to_gray(rgb) - 1.0, atol=1e-6)


def test_low_precision_and_autocast_compute_in_float32(space: ColorSpace) -> None:
    rgb = random_image()
    luma_bf16, chroma_bf16 = space.split(rgb.bfloat16())
    assert luma_bf16.dtype == torch.float32 and chroma_bf16.dtype == torch.float32
    luma, chroma = space.split(rgb)
    assert torch.allclose(chroma_bf16, chroma, atol=0.02)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        restored = space.merge(luma, chroma)
    assert restored.dtype == torch.float32
    assert (restored - rgb).abs().max().item() <= ONE_LEVEL


def test_bad_inputs_raise_readable_errors(space: ColorSpace) -> None:
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        space.split(torch.rand(2, 4, 8, 8))
    with pytest.raises(ValueError, match="floating point"):
        space.split(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="chroma"):
        space.merge(torch.zeros(1, 1, 8, 8), torch.zeros(1, space.chroma_channels + 1, 8, 8))
    with pytest.raises(ValueError, match="spatial"):
        space.merge(torch.zeros(1, 1, 8, 8), torch.zeros(1, space.chroma_channels, 4, 4))
    with pytest.raises(ValueError, match=r"\[B, 1, H, W\]"):
        space.luma_from_gray(torch.rand(1, 3, 8, 8))


@pytest.mark.parametrize("name", available_colorspaces())
def test_training_input_equals_what_a_gray_photo_gives(name):
    """The model's training input for a color photo is exactly its input for that photo made B&W."""
    space = get_colorspace(name)
    rgb = torch.rand(2, 3, 6, 5)
    bw_photo = rgb_to_gray(rgb).expand(-1, 3, -1, -1)  # a B&W print of the same scene, as RGB
    assert torch.allclose(space.model_input(rgb), space.split(bw_photo)[0], atol=1e-5)
    assert torch.allclose(space.model_input(rgb), space.luma_from_gray(rgb_to_gray(rgb)), atol=1e-6)


@pytest.mark.parametrize("name", available_colorspaces())
def test_encode_holds_the_whole_color_in_three_channels(name):
    """`encode` keeps everything needed to get the color back (used by the GAN's judge)."""
    space = get_colorspace(name)
    rgb = torch.rand(2, 3, 5, 4)
    encoded = space.encode(rgb)
    assert encoded.shape == (2, 3, 5, 4)
    assert encoded.abs().max() <= 1.0
    luma, chroma = space.split(rgb)
    assert torch.equal(encoded[:, -space.chroma_channels :], chroma)
    if space.keeps_luma:
        assert torch.equal(encoded[:, :1], luma)
