"""Classification metrics from a confusion matrix (macro precision / recall / F1, no sklearn)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simsat.errors import ConfigError


@dataclass
class EvalResult:
    """Accuracy, macro precision / recall / F1, mean cross-entropy and the confusion matrix.

    confusion[i, j] counts images of true class i predicted as j. Macro averages run over
    the classes present in the labels or the predictions (as sklearn does by default);
    a class never predicted has precision 0, a class with no images recall 0.
    per_class[c] = {"precision", "recall", "f1", "support"} for every class c.
    """

    accuracy: float
    precision: float
    recall: float
    f1: float
    loss: float
    confusion: np.ndarray
    per_class: dict[int, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        """Scalar metrics only (for metric tables)."""
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "loss": self.loss,
        }


def confusion_matrix(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) int64 counts; rows are true classes, columns predictions."""
    labels = np.asarray(labels, dtype=np.int64)
    preds = np.asarray(preds, dtype=np.int64)
    if labels.shape != preds.shape:
        raise ConfigError(f"labels {labels.shape} and predictions {preds.shape} differ in shape")
    for what, arr in (("labels", labels), ("predictions", preds)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ConfigError(f"{what} must lie in [0, {num_classes}), got [{arr.min()}, {arr.max()}]")
    flat = np.bincount(labels * num_classes + preds, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def metrics_from_confusion(confusion: np.ndarray, loss: float = float("nan")) -> EvalResult:
    """EvalResult from a confusion matrix (and an already computed mean loss)."""
    conf = np.asarray(confusion, dtype=np.int64)
    tp = np.diag(conf).astype(np.float64)
    support = conf.sum(axis=1).astype(np.float64)
    predicted = conf.sum(axis=0).astype(np.float64)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    present = (support > 0) | (predicted > 0)
    total = conf.sum()

    def macro(values: np.ndarray) -> float:
        return float(values[present].mean()) if present.any() else 0.0

    per_class = {
        c: {
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": float(support[c]),
        }
        for c in range(conf.shape[0])
    }
    return EvalResult(
        accuracy=float(tp.sum() / total) if total else 0.0,
        precision=macro(precision),
        recall=macro(recall),
        f1=macro(f1),
        loss=float(loss),
        confusion=conf,
        per_class=per_class,
    )
