"""Precision from analyst labels: the latest label of each subject against the model's verdict."""

from __future__ import annotations

from collections.abc import Iterable

from services.fraud.labels.schemas import PrecisionFigure


def precision_of(pairs: Iterable[tuple[str, bool]]) -> PrecisionFigure:
    """`pairs`: (verdict, flagged HIGH) for each labelled subject."""
    labelled = tp = fp = fn = 0
    for verdict, flagged in pairs:
        labelled += 1
        fraud = verdict == "confirmed_fraud"
        tp += int(flagged and fraud)
        fp += int(flagged and not fraud)
        fn += int(fraud and not flagged)
    return PrecisionFigure(
        labelled=labelled,
        flagged=tp + fp,
        true_positives=tp,
        false_positives=fp,
        precision=round(tp / (tp + fp), 4) if tp + fp else None,
        recall=round(tp / (tp + fn), 4) if tp + fn else None,
    )
