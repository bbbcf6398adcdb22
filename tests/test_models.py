"""Student ResNets, timm registration, input normalisation and cost counting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import timm
import torch

from simsat.errors import ConfigError
from simsat.models.cost import count_flops, count_parameters, measure_latency, training_flops_per_image
from simsat.models.inputs import Normalization, to_input
from simsat.models.registry import (
    EXPECTED_PARAMETERS_10_CLASSES,
    STUDENT_MODELS,
    create_student,
    register_timm_models,
)
from simsat.models.resnet import resnet8, resnet16

torch.set_num_threads(1)


@pytest.mark.parametrize("name", sorted(STUDENT_MODELS))
def test_every_registered_student_builds_runs_and_has_expected_size(name: str) -> None:
    model = create_student(name, num_classes=10)
    assert count_parameters(model) == EXPECTED_PARAMETERS_10_CLASSES[name]
    out = model.eval()(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


def test_exact_parameter_counts_from_spec() -> None:
    assert count_parameters(resnet8(num_classes=10)) == 103_642
    assert count_parameters(resnet16(num_classes=10)) == 200_858
    # only the classifier depends on the class count: 576 * C + C
    assert count_parameters(resnet8(num_classes=3)) == 103_642 - 7 * 577


def test_architecture_details() -> None:
    model = resnet8(num_classes=10)
    stem_conv = model.stem[0]
    assert stem_conv.kernel_size == (3, 3) and stem_conv.stride == (1, 1) and stem_conv.bias is None
    # the stride-2 stages have a 3x3 conv shortcut, the first stage an identity
    assert isinstance(model.stages[0][0].shortcut, torch.nn.Identity)
    for stage in (model.stages[1], model.stages[2]):
        conv = stage[0].shortcut[0]
        assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and conv.bias is None
    assert model.fc.in_features == 576
    assert model.forward_features(torch.zeros(1, 3, 64, 64)).shape == (1, 64, 16, 16)
    assert len(resnet16().stages[2]) == 2


def test_pretrained_and_unknown_kwargs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="pretrained"):
        resnet8(pretrained=True)
    with pytest.raises(ConfigError, match="drop_rate"):
        resnet16(drop_rate=0.2)
    with pytest.raises(ConfigError, match="unknown student model 'resnet9'"):
        create_student("resnet9", 10)


def test_timm_registration_is_idempotent_and_creates_simsat_models() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second registration must not warn about overwriting
        register_timm_models()
        register_timm_models()
    assert {"resnet8", "resnet16"} <= set(timm.list_models("resnet*"))
    model = timm.create_model("resnet8", num_classes=10)
    assert count_parameters(model) == 103_642
    assert count_parameters(timm.create_model("resnet16", num_classes=10)) == 200_858
    assert timm.create_model("resnet8", num_classes=4)(torch.zeros(1, 3, 32, 32)).shape == (1, 4)


def test_same_seed_same_init() -> None:
    torch.manual_seed(3)
    a = resnet8()
    torch.manual_seed(3)
    b = resnet8()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_normalization_from_images_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 8, 8, 3), dtype=np.uint8)
    norm = Normalization.from_images(images)
    scaled = images.astype(np.float64) / 255.0
    np.testing.assert_allclose(norm.mean, scaled.mean(axis=(0, 1, 2)), rtol=1e-12)
    np.testing.assert_allclose(norm.std, scaled.std(axis=(0, 1, 2)), rtol=1e-9)


def test_to_input_values_layout_and_errors() -> None:
    images = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    images[..., 0] = 255
    images[1, :, :, 2] = 51
    norm = Normalization(mean=(0.5, 0.0, 0.1), std=(0.5, 1.0, 0.2))
    x = to_input(images, norm)
    assert x.dtype == torch.float32 and x.shape == (2, 3, 4, 4)
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(x[:, 0], torch.ones(2, 4, 4))  # (1 - 0.5) / 0.5
    assert torch.allclose(x[:, 1], torch.zeros(2, 4, 4))
    assert torch.allclose(x[0, 2], torch.full((4, 4), -0.5))  # (0 - 0.1) / 0.2
    assert torch.allclose(x[1, 2], torch.full((4, 4), 0.5))  # (0.2 - 0.1) / 0.2
    plain = to_input(images, norm, channels_last=False)
    assert plain.is_contiguous() and torch.equal(plain, x)
    with pytest.raises(ConfigError, match="uint8"):
        to_input(images.astype(np.float32), norm)
    with pytest.raises(ConfigError, match="shape"):
        to_input(images[..., :2], norm)
    with pytest.raises(ConfigError, match="constant"):
        Normalization.from_images(np.full((2, 4, 4, 3), 7, dtype=np.uint8))


def _resnet8_forward_flops(size: int, classes: int = 10) -> int:
    """Hand count of ResNet8 forward FLOPs (2 per multiply-add in convs and the linear layer)."""

    def conv(cin: int, cout: int, out_hw: int) -> int:
        return 2 * cin * cout * 9 * out_hw * out_hw

    s1, s2, s3 = size, size // 2, size // 4
    total = conv(3, 16, s1) + 2 * conv(16, 16, s1)
    total += conv(16, 32, s2) + conv(32, 32, s2) + conv(16, 32, s2)
    total += conv(32, 64, s3) + conv(64, 64, s3) + conv(32, 64, s3)
    return total + 2 * 576 * classes


def test_flops_match_hand_count_and_scale_with_batch() -> None:
    model = resnet8()
    assert count_flops(model, 64) == _resnet8_forward_flops(64)
    assert count_flops(model, 32, batch=3) == 3 * _resnet8_forward_flops(32)
    assert training_flops_per_image(model, 32) == pytest.approx(3 * _resnet8_forward_flops(32))
    assert model.training  # mode restored


def test_latency_is_positive_and_model_untouched() -> None:
    model = resnet8()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seconds = measure_latency(model, 32, batch=2, repeats=3, warmup=1)
    assert 0 < seconds < 5
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.stem[0].weight.is_contiguous()
