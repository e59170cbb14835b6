#!/usr/bin/env python3
"""Where the time and the idle time of a `checker bench` sweep's runs went, level by level.

    python3 scripts/levels-summary.py BENCH_OUT_DIR WORKERS

Reads BENCH_OUT_DIR/runs/parallel-wWORKERS-r*.json (the reports `checker bench` keeps),
takes the run with the median wall time, and prints its levels' split: how much of the
wall time and of the idle time fell in levels that expanded fewer than 1,000 states a
worker (the bound of `checker check`'s `idle by level` line), and the five levels with
the most idle time. Reports without `telemetry.levels` (older versions) are named and
skipped.
"""
import glob
import json
import os
import sys

SMALL_PER_WORKER = 1000


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    out_dir, workers = sys.argv[1], int(sys.argv[2])
    paths = sorted(glob.glob(os.path.join(out_dir, "runs", f"parallel-w{workers}-r*.json")))
    reports = []
    for path in paths:
        with open(path) as f:
            report = json.load(f)
        if not report.get("telemetry", {}).get("levels"):
            print(f"{path}: no per-level telemetry, skipped")
            continue
        reports.append((report["elapsed"], path, report))
    if not reports:
        print(f"no runs at {workers} workers with per-level telemetry in {out_dir}/runs")
        return
    reports.sort(key=lambda r: r[0])
    elapsed, path, report = reports[(len(reports) - 1) // 2]
    levels = report["telemetry"]["levels"]
    wall = sum(l["wall_s"] for l in levels)
    idle = sum(l["idle_s"] for l in levels)
    small = [l for l in levels if l["expanded"] < SMALL_PER_WORKER * workers]
    small_wall = sum(l["wall_s"] for l in small)
    small_idle = sum(l["idle_s"] for l in small)
    print(
        f"levels at {workers} workers ({os.path.basename(path)}, the median of {len(reports)}): "
        f"{len(levels)} levels, {wall:.3f} s; idle {100 * idle / max(wall * workers, 1e-12):.1f}% "
        f"of the workers' time"
    )
    print(
        f"  {len(small)} levels expanded fewer than {SMALL_PER_WORKER:,} states a worker: "
        f"{100 * small_wall / max(wall, 1e-12):.1f}% of the wall time, "
        f"{100 * small_idle / max(idle, 1e-12):.1f}% of the idle time"
    )
    print("  most idle levels (depth, states expanded, wall ms, idle share within the level):")
    for l in sorted(levels, key=lambda l: l["idle_s"], reverse=True)[:5]:
        # Each worker's own time in the level (reports before workers_wall_s: worker
        # 0's times the workers, which a level shorter than the threads' skew can pass).
        spent = l.get("workers_wall_s") or l["wall_s"] * workers
        share = l["idle_s"] / max(spent, 1e-12)
        print(
            f"    {l['depth']:>5} {l['expanded']:>12,} {1000 * l['wall_s']:>9.2f} {100 * share:>6.1f}%"
        )


if __name__ == "__main__":
    main()
