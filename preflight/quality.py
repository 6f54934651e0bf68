"""Image quality: the measures, the thresholds and the decisions (docs/quality.md).

A public namespace that only re-exports (the analysis lives in
preflight._imaging.quality): analyze_quality(source) measures what the
model will see, quality_findings(measures, thresholds) decides, pure;
effective_size is the resolution that carries all the detail an image
has; QUALITY_CODES are the finding codes the analysis can emit.
"""

from __future__ import annotations

from preflight._imaging.quality import (
    QUALITY_CODES,
    QualityMeasures,
    QualityReport,
    Thresholds,
    analyze_quality,
    effective_size,
    quality_findings,
)

__all__ = [
    "QUALITY_CODES",
    "QualityMeasures",
    "QualityReport",
    "Thresholds",
    "analyze_quality",
    "effective_size",
    "quality_findings",
]
