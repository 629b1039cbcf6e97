#!/usr/bin/python3
"""Draws the report's figures from the plot-data JSON written by //reports:tables.

Usage: /usr/bin/python3 reports/plot.py PLOT_DATA.json OUT_DIR

Each figure in the JSON names its file (relative to OUT_DIR). Needs Debian's
python3-matplotlib (the `python3` on PATH may be another interpreter without it). On any
problem the last line printed names it and the exit status is non-zero; the report is then
written without the missing plots.
"""
import json
import math
import os
import sys


def finite(xs, ys):
    pairs = [(x, y) for x, y in zip(xs, ys)
             if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def optimisation(plt, fig_data, out_dir):
    # Paper Sec. 3 figure: loss, gradient L2 norm and its change over training, Table A runs.
    panels = [("loss", "training loss"), ("grad_norm", "gradient L2 norm"),
              ("grad_delta", "|g_t - g_(t-1)|")]
    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    for run in fig_data["runs"]:
        for ax, (key, _) in zip(axes, panels):
            xs, ys = finite(run["iteration"], run.get(key) or [])
            if xs:
                ax.plot(xs, ys, label=run["label"], linewidth=1,
                        linestyle="--" if run.get("diverged") else "-")
    for ax, (key, title) in zip(axes, panels):
        ax.set_title(title)
        ax.set_xlabel("iteration")
        if key != "loss":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(fig_data["title"])
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, fig_data["file"]), dpi=80)
    plt.close(fig)


def per_class_ap(plt, fig_data, out_dir):
    classes = fig_data["classes"]
    series = fig_data["series"]
    width = 0.8 / max(len(series), 1)
    # Wide enough for ~0.25 inch per bar (20 VOC classes x 12 Table A runs stays readable).
    fig, ax = plt.subplots(figsize=(min(40, max(8, 0.25 * len(classes) * len(series) + 3)), 5))
    for k, s in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(classes))]
        ys = [v if v is not None else 0.0 for v in s["values"]]
        ax.bar(xs, ys, width=width, label=s["label"])
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes, rotation=45, ha="right")
    ax.set_ylabel("AP (%)")
    ax.set_ylim(0, 100)
    ax.set_title(fig_data["title"])
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, fig_data["file"]), dpi=80)
    plt.close(fig)


def pr_curves(plt, fig_data, out_dir):
    fig, ax = plt.subplots(figsize=(7, 6))
    for curve in fig_data["curves"]:
        xs, ys = finite(curve["recall"], curve["precision"])
        ax.plot(xs, ys, label=curve["class"], linewidth=1)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(fig_data["title"], fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, fig_data["file"]), dpi=80)
    plt.close(fig)


def main(data_path, out_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"matplotlib is not available to {sys.executable} ({e}): "
              "install Debian's python3-matplotlib")
        return 2
    with open(data_path) as f:
        data = json.load(f)
    os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
    failures = []
    jobs = []
    if "optimisation" in data:
        jobs.append((optimisation, data["optimisation"]))
    jobs += [(per_class_ap, d) for d in data.get("per_class_ap", [])]
    if "pr" in data:
        jobs.append((pr_curves, data["pr"]))
    for draw, fig_data in jobs:
        try:
            draw(plt, fig_data, out_dir)
        except Exception as e:  # one bad figure must not cost the others
            failures.append(f"{fig_data.get('file')}: {type(e).__name__}: {e}")
    if failures:
        print("; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
