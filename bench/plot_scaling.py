#!/usr/bin/python3
"""Plots issue 13's scale-out figures to PNG:

  /usr/bin/python3 bench/plot_scaling.py SCALING.txt STALL.txt OUT.png

SCALING.txt: output of CPU_CAP=... bench/run_scaling.sh (lines
"servers=N run=R ... triplets_per_s=X"); the best run per N is drawn with the
linear ideal from one server. STALL.txt: output of
scripts/check_stall_autoscaling.sh (its "input-wait share over time" line);
the trainer's input-wait share is drawn over time with the server count.
Needs python3-matplotlib.
"""
import re
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    best = {}
    for line in open(sys.argv[1]):
        m = re.match(r"servers=(\d+) run=\d+ .*triplets_per_s=([0-9.]+)", line)
        if m:
            n, rate = int(m.group(1)), float(m.group(2))
            best[n] = max(best.get(n, 0), rate)
    timeline = []
    for line in open(sys.argv[2]):
        if "share over time" in line:
            timeline = [tuple(float(x) for x in item.rstrip("s").replace("s:", ":").split(":"))
                        for item in line.split("):", 1)[1].split()]
    if not best or not timeline:
        sys.exit("plot_scaling: no scaling runs or no stall timeline in the inputs")
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    ns = sorted(best)
    a.plot(ns, [best[n] for n in ns], marker="o", label="measured (best run)")
    a.plot(ns, [best[ns[0]] * n / ns[0] for n in ns], linestyle=":", label="linear")
    a.set_xlabel("data servers (CPU-capped)")
    a.set_ylabel("triplets/s delivered")
    a.set_title("scale-out")
    a.legend()
    a.grid(alpha=0.3)
    t0 = timeline[0][0]
    b.plot([t - t0 for t, _, _ in timeline], [s for _, _, s in timeline], marker=".",
           label="trainer input-wait share")
    b2 = b.twinx()
    b2.step([t - t0 for t, _, _ in timeline], [n for _, n, _ in timeline], where="post",
            color="grey", label="servers")
    b2.set_ylabel("servers")
    b.set_xlabel("seconds")
    b.set_ylabel("input-wait share")
    b.set_title("autoscaling on the trainer's stall")
    b.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[3], dpi=100)
    print(f"wrote {sys.argv[3]}")


if __name__ == "__main__":
    main()
