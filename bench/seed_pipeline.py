#!/usr/bin/python3
"""The yardstick: the seed design's Python input pipeline, measured alone.

Loads MotionSense with pandas, cuts windows of 128 (stride 64) per
(user, session) file, z-scores channels, and serves triplets through a
`TripletDataset` + PyTorch `DataLoader(num_workers=W)`, as the pre-tripletstream
training scripts did. Only data delivery is timed (the consumer touches each
batch), so the figure is comparable with tripletstream-probe's.

Run with Debian's interpreter: /usr/bin/python3 bench/seed_pipeline.py
Last lines: `config=seed_dataloader workers=W augment=A triplets_per_s=... mb_per_s=...`
"""
import argparse
import glob
import os
import re
import sys
import time

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

WINDOW = 128
STRIDE = 64


def load(root):
    """Returns (windows [N,128,12] float32, users [N] int64, pandas seconds)."""
    pattern = os.path.join(root, "A_DeviceMotion_data", "*", "sub_*.csv")
    paths = sorted(glob.glob(pattern))
    if not paths:
        sys.exit(f"seed_pipeline: no files match {pattern}")
    started = time.perf_counter()
    frames = [(p, pd.read_csv(p, index_col=0)) for p in paths]
    seconds = time.perf_counter() - started
    windows, users = [], []
    for path, frame in frames:
        user = int(re.search(r"sub_(\d+)\.csv$", path).group(1))
        values = frame.to_numpy(dtype=np.float32)
        for start in range(0, len(values) - WINDOW + 1, STRIDE):
            windows.append(values[start:start + WINDOW])
            users.append(user)
    data = np.stack(windows)
    # Statistics over all data here (the server uses the training split only;
    # the cost is the same).
    mean = data.reshape(-1, data.shape[2]).mean(axis=0)
    std = data.reshape(-1, data.shape[2]).std(axis=0) + 1e-6
    data = (data - mean) / std
    return data.astype(np.float32), np.array(users), seconds


class TripletDataset(Dataset):
    """Anchor i, a random window of the same user, one of another user."""

    def __init__(self, windows, users, augment, seed=1):
        self.windows = torch.from_numpy(windows)
        self.users = users
        self.augment = augment
        self.by_user = {u: np.flatnonzero(users == u) for u in np.unique(users)}
        self.user_list = list(self.by_user)
        self.seed = seed
        self._rng = None

    @property
    def rng(self):
        # One generator per process: DataLoader workers get copies of the
        # dataset, and a generator made before the fork would give every
        # worker the same random stream.
        if self._rng is None:
            info = torch.utils.data.get_worker_info()
            self._rng = np.random.default_rng([self.seed, info.id + 1 if info else 0])
        return self._rng

    def __len__(self):
        return len(self.windows)

    def _augment(self, x):
        if not self.augment:
            return x
        x = x * torch.normal(1.0, 0.1, size=(1, x.shape[1]))      # amplitude scale
        x = x + torch.normal(0.0, 0.03, size=x.shape)              # jitter
        return torch.roll(x, int(self.rng.integers(-8, 9)), dims=0)  # time shift

    def __getitem__(self, i):
        user = self.users[i]
        positive = self.rng.choice(self.by_user[user])
        other = self.user_list[self.rng.integers(len(self.user_list))]
        while other == user:
            other = self.user_list[self.rng.integers(len(self.user_list))]
        negative = self.rng.choice(self.by_user[other])
        return (self._augment(self.windows[i]), self._augment(self.windows[positive]),
                self._augment(self.windows[negative]))


def measure(dataset, workers, batches, warmup, batch_size):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        num_workers=workers, drop_last=True,
                        persistent_workers=workers > 0)
    seen = 0
    touched = 0.0
    started = time.perf_counter() if warmup == 0 else None
    while seen < warmup + batches:
        for anchor, positive, negative in loader:
            touched += float(anchor[0, 0, 0] + positive[0, 0, 0] + negative[0, 0, 0])
            seen += 1
            if seen == warmup:
                started = time.perf_counter()
            if seen == warmup + batches:
                break
    seconds = time.perf_counter() - started
    triplets = batches * batch_size
    payload = 3 * batch_size * WINDOW * dataset.windows.shape[2] * 4 * batches
    return triplets / seconds, payload / 1e6 / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data",
                                                       "motionsense"))
    parser.add_argument("--workers", default="0,1,2")
    parser.add_argument("--augment", default="0", help="0, 1 or 0,1")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(1)
    np.random.seed(1)
    windows, users, pandas_s = load(args.data)
    print(f"pandas ingest: {pandas_s:.3f} s; {len(windows)} windows")
    print(f"config=pandas_ingest seconds={pandas_s:.3f}")
    for augment in [int(a) for a in args.augment.split(",")]:
        for workers in [int(w) for w in args.workers.split(",")]:
            dataset = TripletDataset(windows, users, bool(augment))
            tps, mbps = measure(dataset, workers, args.batches, args.warmup, args.batch_size)
            print(f"config=seed_dataloader workers={workers} augment={augment} "
                  f"triplets_per_s={tps:.0f} mb_per_s={mbps:.1f}", flush=True)


if __name__ == "__main__":
    main()
