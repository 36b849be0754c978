#!/usr/bin/env python3
"""How much identity simple per-window statistics carry, per activity.

A supervised yardstick for the cross-session protocol of docs/benchmarks.md:
every 128-sample window (stride 64) of MotionSense becomes 24 features (mean
and standard deviation of each of the 12 channels); classifiers are trained on
trials 1-9 of all 24 users and identify the windows of trials 11-16. Printed:
top-1 identification overall and per activity, for LDA and a random forest, on
all features, without attitude.yaw, gravity only, and the dynamic channels
only (rotation rate, user acceleration).

It is a closed-set classifier trained on every user, an easier task than
verifying against an enrolled template; it shows which activities carry
identity in these recordings, not what an embedding must reach.

Run with Debian's interpreter (python3-pandas, python3-sklearn):
  /usr/bin/python3 bench/feature_baseline.py [--data ../shared/data/motionsense]
"""
import argparse
import glob
import os
import re

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier


def load(root):
    features, users, trials, activities = [], [], [], []
    for folder in sorted(os.listdir(root)):
        activity, trial = folder.split("_")
        for path in sorted(glob.glob(f"{root}/{folder}/sub_*.csv")):
            user = int(re.search(r"sub_(\d+)", path).group(1))
            values = pd.read_csv(path, index_col=0).values.astype(np.float32)
            for start in range(0, len(values) - 128 + 1, 64):
                window = values[start:start + 128]
                features.append(np.concatenate([window.mean(0), window.std(0)]))
                users.append(user)
                trials.append(int(trial))
                activities.append(activity)
    return (np.array(features), np.array(users), np.array(trials), np.array(activities))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data",
                                                       "motionsense"))
    args = parser.parse_args()
    x, users, trials, activities = load(os.path.join(args.data, "A_DeviceMotion_data"))
    train, test = trials <= 9, trials >= 11
    # Columns: 0-11 window means, 12-23 standard deviations, channel order
    # attitude roll/pitch/yaw, gravity xyz, rotationRate xyz, userAcceleration xyz.
    feature_sets = {
        "all": list(range(24)),
        "no_yaw": [c for c in range(24) if c not in (2, 14)],
        "gravity": [3, 4, 5, 15, 16, 17],
        "dynamic": [c for c in range(24) if 6 <= c % 12 < 12],
    }
    for name, columns in feature_sets.items():
        for model in (LinearDiscriminantAnalysis(),
                      RandomForestClassifier(200, n_jobs=2, random_state=0)):
            model.fit(x[train][:, columns], users[train])
            predicted = model.predict(x[test][:, columns])
            hits = predicted == users[test]
            per_activity = " ".join(
                f"{a}={100 * hits[activities[test] == a].mean():.1f}"
                for a in np.unique(activities))
            print(f"features={name} model={type(model).__name__} "
                  f"top1_pct={100 * hits.mean():.1f} {per_activity}")


if __name__ == "__main__":
    main()
