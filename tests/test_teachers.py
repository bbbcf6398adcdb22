"""Teacher construction, local checkpoints, and the on-disk teacher cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F

from simsat.distill.teacher_cache import TeacherSpec, cache_key, train_or_load_teachers, training_file, versions_file
from simsat.errors import ConfigError
from simsat.models.cost import count_flops
from simsat.models.inputs import Normalization
from simsat.models.teachers import create_teacher

torch.set_num_threads(1)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_unknown_timm_name_is_config_error() -> None:
    with pytest.raises(ConfigError, match="no_such_net"):
        create_teacher("no_such_net", 10)


def test_teacher_resizes_64px_input_to_its_input_size() -> None:
    torch.manual_seed(0)
    teacher = create_teacher("efficientvit_b0", 10, input_size=32).eval()
    x = torch.randn(2, 3, 64, 64)
    expected = teacher.model(F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False))
    with torch.no_grad():
        assert torch.allclose(teacher(x), expected.detach(), atol=1e-6)
    # FLOPs are counted at the size the model runs at: a 64 px call costs the same as 32 px
    assert count_flops(teacher, 64) == count_flops(teacher.model, 32)
    assert count_flops(teacher.model, 64) > count_flops(teacher.model, 32)


def test_simsat_students_are_valid_teacher_names() -> None:
    teacher = create_teacher("resnet8", 7)
    assert teacher(torch.zeros(1, 3, 64, 64)).shape == (1, 7)


@pytest.mark.parametrize("wrap", ["bare", "state_dict", "wrapper_keys"])
def test_checkpoint_formats_load_the_same_weights(tmp_path: Path, wrap: str) -> None:
    torch.manual_seed(1)
    source = create_teacher("resnet8", 10)
    state = {
        "bare": source.model.state_dict(),
        "state_dict": {"state_dict": source.model.state_dict()},
        "wrapper_keys": source.state_dict(),
    }[wrap]
    path = tmp_path / "teacher.pt"
    torch.save(state, path)
    torch.manual_seed(2)
    loaded = create_teacher("resnet8", 10, checkpoint=path)
    assert _same_weights(source, loaded)


def test_checkpoint_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pt"
    with pytest.raises(ConfigError, match="missing.pt"):
        create_teacher("resnet8", 10, checkpoint=missing)
    other = tmp_path / "resnet16.pt"
    torch.save(create_teacher("resnet16", 10).model.state_dict(), other)
    with pytest.raises(ConfigError, match="resnet16.pt.*unexpected"):
        create_teacher("resnet8", 10, checkpoint=other)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="junk.pt"):
        create_teacher("resnet8", 10, checkpoint=junk)


def test_checkpoint_with_other_class_count_keeps_fresh_head(tmp_path: Path) -> None:
    torch.manual_seed(3)
    source = create_teacher("resnet8", 1000)  # e.g. ImageNet weights
    path = tmp_path / "imagenet.pt"
    torch.save(source.model.state_dict(), path)
    loaded = create_teacher("resnet8", 10, checkpoint=path)
    assert torch.equal(loaded.model.stem[0].weight, source.model.stem[0].weight)
    assert loaded.model.fc.weight.shape == (10, 576)


def _tiny_data(n: int = 24, size: int = 16) -> tuple[np.ndarray, np.ndarray, Normalization]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, size=n).astype(np.int64)
    return images, labels, Normalization.from_images(images)


def test_teacher_cache_miss_then_hit(tmp_path: Path) -> None:
    images, labels, norm = _tiny_data()
    specs = [TeacherSpec("resnet8", input_size=16, epochs=1, batch_size=8)]
    calls: list[tuple[str, int, int]] = []
    first = train_or_load_teachers(
        specs,
        images,
        labels,
        norm,
        3,
        "fp-1",
        tmp_path,
        seed=5,
        progress=lambda name, done, total: calls.append((name, done, total)),
    )
    model, meta = first[0]
    assert meta["cache_hit"] is False and meta["train_seconds"] > 0
    assert calls[-1] == ("resnet8", 24, 24)
    assert Path(meta["cache_file"]).is_file()
    weights_file = Path(meta["cache_file"])
    versions, training = versions_file(weights_file), training_file(weights_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [weights_file.name, versions.name, training.name]
    )  # no temp files
    assert meta["training"] == {
        "seconds": meta["train_seconds"],
        "images_per_s": meta["images_per_s"],
        "mean_loss": meta["mean_loss"],
        "epochs": 1,
    }
    assert meta["trained_with"] == {"torch": torch.__version__, "timm": timm.__version__}
    assert not model.training

    second = train_or_load_teachers(specs, images, labels, norm, 3, "fp-1", tmp_path, seed=5)
    cached, meta2 = second[0]
    assert meta2["cache_hit"] is True and meta2["key"] == meta["key"]
    assert meta2["train_seconds"] is None and meta2["images_per_s"] is None  # not measured in this run
    assert meta2["trained_with"] == meta["trained_with"]
    assert meta2["training"] == meta["training"]  # how it was trained, read back from beside the weights
    assert _same_weights(model, cached)
    training.unlink()
    _, meta3 = train_or_load_teachers(specs, images, labels, norm, 3, "fp-1", tmp_path, seed=5)[0]
    assert meta3["cache_hit"] is True and meta3["training"] is None  # weights cached before the record existed
    loaded = torch.load(meta["cache_file"], weights_only=True)
    assert set(loaded) == set(model.model.state_dict())


def test_teacher_training_is_deterministic_and_key_covers_inputs(tmp_path: Path) -> None:
    images, labels, norm = _tiny_data()
    spec = TeacherSpec("resnet8", input_size=16, epochs=1, batch_size=8)
    a = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path / "a", seed=1)[0][0]
    b = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path / "b", seed=1)[0][0]
    assert _same_weights(a, b)
    key = cache_key(spec, 1, "fp", norm, 3)
    assert key != cache_key(spec, 2, "fp", norm, 3)
    assert key != cache_key(spec, 1, "fp2", norm, 3)
    assert key != cache_key(TeacherSpec("resnet8", input_size=16, epochs=2, batch_size=8), 1, "fp", norm, 3)
    assert key == cache_key(TeacherSpec("resnet8", input_size=16, epochs=1, batch_size=8), 1, "fp", norm, 3)


def test_cache_key_of_a_fixed_teacher_does_not_move() -> None:
    """Teachers already trained and cached stay found when the code around the key changes."""
    norm = Normalization((0.3, 0.4, 0.5), (0.2, 0.2, 0.2))
    key = cache_key(TeacherSpec(name="efficientvit_b0"), 7, "abc", norm, 10)
    assert key == "de05b03a0ae9022edfc759eeef725997d1781c55cbd7582bb221a1a9813faf19"


def test_cache_key_survives_a_library_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hours of teacher training are not thrown away by a torch or timm release; the versions are metadata."""
    images, labels, norm = _tiny_data()
    spec = TeacherSpec("resnet8", input_size=16, epochs=1, batch_size=8)
    _, meta = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path, seed=0)[0]
    trained_with = meta["trained_with"]
    monkeypatch.setattr(torch, "__version__", "99.0.0")
    monkeypatch.setattr(timm, "__version__", "99.0.0")
    assert cache_key(spec, 0, "fp", norm, 3) == meta["key"]
    _, again = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path, seed=0)[0]
    assert again["cache_hit"] is True and again["trained_with"] == trained_with
    versions_file(Path(meta["cache_file"])).unlink()
    _, unrecorded = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path, seed=0)[0]
    assert unrecorded["cache_hit"] is True and unrecorded["trained_with"] is None


def test_corrupt_cache_file_is_retrained(tmp_path: Path) -> None:
    images, labels, norm = _tiny_data()
    spec = TeacherSpec("resnet8", input_size=16, epochs=1, batch_size=8)
    _, meta = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path, seed=0)[0]
    Path(meta["cache_file"]).write_bytes(b"garbage")
    _, meta2 = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path, seed=0)[0]
    assert meta2["cache_hit"] is False
    torch.load(meta2["cache_file"], weights_only=True)  # rewritten and readable


def test_spec_checkpoint_is_loaded_before_fine_tuning(tmp_path: Path) -> None:
    images, labels, norm = _tiny_data()
    torch.manual_seed(9)
    source = create_teacher("resnet8", 3)
    ckpt = tmp_path / "start.pt"
    torch.save(source.model.state_dict(), ckpt)
    spec = TeacherSpec("resnet8", input_size=16, epochs=0, checkpoint=str(ckpt))
    model, meta = train_or_load_teachers([spec], images, labels, norm, 3, "fp", tmp_path / "c", seed=0)[0]
    assert _same_weights(model, source)
    assert meta["training"]["epochs"] == 0 and meta["training"]["mean_loss"] is None  # valid JSON, no NaN
    assert meta["mean_loss"] is None  # nothing trained: no loss, in the run's figures too
    json.loads(training_file(Path(meta["cache_file"])).read_text(), parse_constant=lambda c: pytest.fail(c))
    with pytest.raises(ConfigError, match="nope.pt"):
        cache_key(TeacherSpec("resnet8", checkpoint=str(tmp_path / "nope.pt")), 0, "fp", norm, 3)
