"""Collects benchmark figures with their same-run baselines and DESIGN.md §6 targets."""

import json
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection


@dataclass
class Figure:
    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None  # none beside a zero baseline


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)

    def add(self, benchmark, metric, value, unit, *, baseline=None, baseline_label="", target="", met=None):
        figure = Figure(benchmark, metric, value, unit, baseline, baseline_label, target, met)
        self.figures.append(figure)
        ratio = f"  ratio {figure.ratio:.2f}×" if figure.ratio else ""
        beside = f"{ratio or ' '} vs {baseline_label} ({baseline:,.2f} {unit})" if baseline is not None else ""
        verdict = "" if met is None else ("  MET" if met else "  MISSED")
        print(f"{benchmark:>12} | {metric:<40} {value:>12,.2f} {unit}{beside}  target {target or '-'}{verdict}")
        return figure

    def write(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        context = {
            "when": stamp,
            "database": connection.vendor,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        (directory / f"{stamp}.json").write_text(
            json.dumps({**context, "figures": [asdict(f) | {"ratio": f.ratio} for f in self.figures]}, indent=2)
        )
        lines = [
            f"# Benchmarks — {stamp} on {connection.vendor}",
            "",
            "| benchmark | metric | value | baseline (same run) | ratio | target | met |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            baseline = f"{f.baseline:,.2f} {f.unit} ({f.baseline_label})" if f.baseline is not None else "-"
            ratio = f"{f.ratio:.2f}×" if f.ratio else "-"
            met = "-" if f.met is None else ("yes" if f.met else "NO")
            lines.append(
                f"| {f.benchmark} | {f.metric} | {f.value:,.2f} {f.unit} | {baseline} | {ratio} | "
                f"{f.target or '-'} | {met} |"
            )
        (directory / "latest.md").write_text("\n".join(lines) + "\n")
