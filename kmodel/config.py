"""Settings of one model: which Kubernetes release's behaviour to follow, and timing.

Where upstream behaviour changed between releases the model follows
`kubernetes_version`; the default is the newest behaviour, "1.28" selects the older.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from kmodel.timefmt import DEFAULT_EPOCH

NEWEST_VERSION = "1.34"
SUPPORTED_VERSIONS = ("1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34")


@functools.lru_cache(maxsize=64)
def _parse_version(v: str) -> tuple[int, int]:
    major, minor = v.lstrip("v").split(".")[:2]
    return int(major), int(minor)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Behavioural settings of the model."""

    kubernetes_version: str = NEWEST_VERSION
    # "atomic": a controller's requests are applied in the same step that issues them.
    # "async": they wait in flight until delivered, so controllers can act on views that
    # miss their own writes (what expectations protect against).
    delivery: str = "atomic"
    epoch: datetime = field(default=DEFAULT_EPOCH)
    # Node lifecycle (pkg/controller/nodelifecycle; cmd/kube-controller-manager options).
    node_monitor_grace_period: int | None = None  # None: 40 s up to 1.31, 50 s from 1.32
    # DefaultTolerationSeconds admission plugin: 300 s for not-ready/unreachable.
    default_toleration_seconds: int = 300
    # PodGC: orphaned pods are force-deleted after a 40 s quarantine (gc_controller.go).
    podgc_quarantine_seconds: int = 40
    # Controller expectations expire after 5 minutes (controller_utils.go ExpectationsTimeout).
    expectations_timeout: int = 300

    def __post_init__(self) -> None:
        if self.kubernetes_version not in SUPPORTED_VERSIONS:
            raise ValueError(f"kubernetes_version {self.kubernetes_version!r} is not supported; use one of {', '.join(SUPPORTED_VERSIONS)}")
        if self.delivery not in ("atomic", "async"):
            raise ValueError(f"delivery must be 'atomic' or 'async', not {self.delivery!r}")

    def at_least(self, version: str) -> bool:
        """Whether the modelled release is `version` or newer."""
        return _parse_version(self.kubernetes_version) >= _parse_version(version)

    @property
    def grace_period(self) -> int:
        """node-monitor-grace-period: 40 s up to 1.31, 50 s from 1.32 (kubernetes#126287)."""
        if self.node_monitor_grace_period is not None:
            return self.node_monitor_grace_period
        return 50 if self.at_least("1.32") else 40
