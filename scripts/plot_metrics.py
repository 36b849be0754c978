#!/usr/bin/python3
"""Plots a trainer's JSON-lines metrics (--metrics=FILE) to PNGs.

  /usr/bin/python3 scripts/plot_metrics.py metrics.jsonl metrics.png \\
      [--det=det.png] [--fused=fused.png]

metrics.png: three panels over training steps: loss, data-stall %, and EER %
(open-set and cross-session, validation users when the servers hold them).
--det: the DET curve (false accepts against false rejects, log scales) of the
first and the last evaluation in the file (untrained and trained model on a
fresh run). --fused: EER % against the number of fused windows per probe, for
the same two evaluations. Needs Debian's python3-matplotlib.
"""
import json
import sys


def load(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"plot_metrics: {path}:{number}: {e}")
    return rows


def is_eval(row):
    return "eer_pct" in row or "cross_eer_pct" in row


def plot_progress(plt, rows, out):
    steps, loss, stall, eval_steps, eer, cross, val = [], [], [], [], [], [], []
    for row in rows:
        if "loss" in row:
            steps.append(row["step"])
            loss.append(row["loss"])
            stall.append(row.get("data_stall_pct", 0))
        if is_eval(row):
            eval_steps.append(row["step"])
            eer.append(row.get("eer_pct"))
            cross.append(row.get("cross_eer_pct"))
            val.append(row.get("val_eer_pct"))
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    axes[0].plot(steps, loss)
    axes[0].set_ylabel("loss")
    axes[1].plot(steps, stall)
    axes[1].set_ylabel("data stall %")
    for values, label in ((eer, "open-set (test users)"), (cross, "cross-session"),
                          (val, "validation users")):
        points = [(s, v) for s, v in zip(eval_steps, values) if v is not None]
        if points:
            axes[2].plot(*zip(*points), marker="o", label=label)
    axes[2].set_ylabel("EER %")
    axes[2].set_xlabel("step")
    if eval_steps:
        axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def first_and_last(rows, key):
    evals = [row for row in rows if is_eval(row) and key in row]
    if not evals:
        return []
    return [evals[0]] if len(evals) == 1 else [evals[0], evals[-1]]


def plot_det(plt, rows, out):
    chosen = first_and_last(rows, "det")
    if not chosen:
        sys.exit("plot_metrics: no DET curve in the metrics (evaluations write one)")
    fig, ax = plt.subplots(figsize=(6, 6))
    floor = 1e-4
    for row in chosen:
        far = [max(p[0], floor) for p in row["det"]]
        frr = [max(p[1], floor) for p in row["det"]]
        eer = row.get("eer_pct", row.get("cross_eer_pct"))
        ax.plot(far, frr, label=f"step {row['step']} (EER {eer:.1f}%)")
    ax.plot([floor, 1], [floor, 1], color="grey", linestyle=":", label="FAR = FRR")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("false reject rate")
    ax.set_title("DET curve")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def plot_fused(plt, rows, out):
    chosen = [row for row in first_and_last(rows, "eer_pct")]
    key = "open_set_fused"
    if not chosen or not any(key in row for row in chosen):
        chosen = first_and_last(rows, "cross_eer_pct")
        key = "cross_session_fused"
    if not chosen:
        sys.exit("plot_metrics: no evaluation in the metrics")
    fig, ax = plt.subplots(figsize=(6, 4))
    for row in chosen:
        single = row.get("eer_pct") if key == "open_set_fused" else row.get("cross_eer_pct")
        points = [(1, single)] + sorted(
            (int(n), r["eer_pct"]) for n, r in row.get(key, {}).items())
        ax.plot(*zip(*points), marker="o", label=f"step {row['step']}")
    ax.set_xlabel("windows fused per probe")
    ax.set_ylabel("EER %")
    ax.set_title("open-set" if key == "open_set_fused" else "cross-session")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    unknown = set(options) - {"det", "fused"}
    if len(args) != 2 or unknown or any(a.startswith("--") and "=" not in a
                                        for a in sys.argv[1:]):
        sys.exit(__doc__)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_metrics: needs python3-matplotlib (apt-get install python3-matplotlib)")
    rows = load(args[0])
    if not rows:
        sys.exit(f"plot_metrics: no metrics in {args[0]}")
    plot_progress(plt, rows, args[1])
    if "det" in options:
        plot_det(plt, rows, options["det"])
    if "fused" in options:
        plot_fused(plt, rows, options["fused"])


if __name__ == "__main__":
    main()
