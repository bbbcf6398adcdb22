"""CIFAR-style ResNet students (ResNet8 / ResNet16) as used by Le et al. (arXiv 2411.00209).

Stem conv3x3(3->16, stride 1, no bias) + BN + ReLU; three stages of BasicBlocks with
16/32/64 channels and strides 1/2/2; a shape-changing shortcut is a 3x3 conv (no bias) + BN;
then AdaptiveAvgPool2d(3), flatten and Linear(576, num_classes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from simsat.errors import ConfigError

__all__ = ["STUDENT_FACTORIES", "BasicBlock", "CifarResNet", "build_cifar_resnet", "resnet8", "resnet16"]

STAGE_CHANNELS: tuple[int, int, int] = (16, 32, 64)
STAGE_STRIDES: tuple[int, int, int] = (1, 2, 2)
POOL_SIZE = 3

# keyword arguments that timm.create_model passes to every entrypoint; they carry no meaning here
_TIMM_IGNORED_KWARGS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


def _conv3x3(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers with a residual connection (3x3 conv shortcut on shape change)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_ch, out_ch, stride)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = _conv3x3(out_ch, out_ch)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(_conv3x3(in_ch, out_ch, stride), nn.BatchNorm2d(out_ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """CIFAR-style ResNet with `blocks_per_stage` BasicBlocks in each of its three stages."""

    def __init__(self, blocks_per_stage: int, num_classes: int = 10, in_chans: int = 3) -> None:
        super().__init__()
        if blocks_per_stage < 1:
            raise ConfigError(f"blocks_per_stage must be >= 1, got {blocks_per_stage}")
        if num_classes < 1:
            raise ConfigError(f"num_classes must be >= 1, got {num_classes}")
        if in_chans < 1:
            raise ConfigError(f"in_chans must be >= 1, got {in_chans}")
        self.num_classes = num_classes
        self.num_features = STAGE_CHANNELS[-1] * POOL_SIZE * POOL_SIZE
        self.stem = nn.Sequential(
            _conv3x3(in_chans, STAGE_CHANNELS[0]), nn.BatchNorm2d(STAGE_CHANNELS[0]), nn.ReLU(inplace=True)
        )
        stages: list[nn.Module] = []
        in_ch = STAGE_CHANNELS[0]
        for out_ch, stride in zip(STAGE_CHANNELS, STAGE_STRIDES, strict=True):
            blocks = [BasicBlock(in_ch, out_ch, stride)]
            blocks += [BasicBlock(out_ch, out_ch, 1) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            in_ch = out_ch
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(POOL_SIZE)
        self.fc = nn.Linear(self.num_features, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map after the last stage, shape (B, 64, H/4, W/4)."""
        return self.stages(self.stem(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool to 3x3, flatten to 576 features and (unless pre_logits) apply the classifier."""
        x = torch.flatten(self.pool(x), 1)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a freshly initialised one for `num_classes` classes."""
        self.num_classes = num_classes
        self.fc = nn.Linear(self.num_features, num_classes)


def build_cifar_resnet(blocks_per_stage: int, pretrained: bool = False, **kwargs: Any) -> CifarResNet:
    """Builder shared by the factories; accepts num_classes and in_chans (and timm's bookkeeping kwargs)."""
    if pretrained:
        raise ConfigError(
            "pretrained=True is not available for simsat CIFAR ResNets (no hub weights); "
            "train one or load a local state_dict"
        )
    for key in _TIMM_IGNORED_KWARGS:
        kwargs.pop(key, None)
    unknown = sorted(set(kwargs) - {"num_classes", "in_chans"})
    if unknown:
        raise ConfigError(f"unknown ResNet argument(s): {', '.join(unknown)}")
    return CifarResNet(blocks_per_stage, **kwargs)


def resnet8(pretrained: bool = False, **kwargs: Any) -> CifarResNet:
    """ResNet8: one BasicBlock per stage (103,642 parameters with 10 classes)."""
    return build_cifar_resnet(1, pretrained, **kwargs)


def resnet16(pretrained: bool = False, **kwargs: Any) -> CifarResNet:
    """ResNet16: two BasicBlocks per stage (200,858 parameters with 10 classes)."""
    return build_cifar_resnet(2, pretrained, **kwargs)


# the students by name; simsat.models.timm_hook registers these in timm's model registry
STUDENT_FACTORIES: dict[str, Callable[..., CifarResNet]] = {
    "resnet8": resnet8,
    "resnet16": resnet16,
}
