#!/usr/bin/python3
"""Plots a trainer's JSON-lines metrics (--metrics=FILE) to a PNG.

Three panels over training steps: loss, data-stall %, and EER % (open-set and
cross-session, when evaluated). Needs Debian's python3-matplotlib.

  /usr/bin/python3 scripts/plot_metrics.py metrics.jsonl metrics.png
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_metrics: needs python3-matplotlib (apt-get install python3-matplotlib)")
    steps, loss, stall, eval_steps, eer, cross = [], [], [], [], [], []
    with open(sys.argv[1]) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_metrics: {sys.argv[1]}:{number}: {e}")
            if "loss" in row:
                steps.append(row["step"])
                loss.append(row["loss"])
                stall.append(row.get("data_stall_pct", 0))
            if "eer_pct" in row or "cross_eer_pct" in row:
                eval_steps.append(row["step"])
                eer.append(row.get("eer_pct"))
                cross.append(row.get("cross_eer_pct"))
    if not steps and not eval_steps:
        sys.exit(f"plot_metrics: no metrics in {sys.argv[1]}")
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    axes[0].plot(steps, loss)
    axes[0].set_ylabel("loss")
    axes[1].plot(steps, stall)
    axes[1].set_ylabel("data stall %")
    for values, label in ((eer, "open-set"), (cross, "cross-session")):
        points = [(s, v) for s, v in zip(eval_steps, values) if v is not None]
        if points:
            axes[2].plot(*zip(*points), marker="o", label=label)
    axes[2].set_ylabel("EER %")
    axes[2].set_xlabel("step")
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
