#!/usr/bin/python3
"""Training-throughput yardstick: the seed design trains the same TCN in process.

The PyTorch twin of trainer/tcn.cc (dilated causal Conv1d blocks with
residuals, global average pooling, linear head, L2 normalization) trained with
triplet margin loss and AdamW on random triplets from a TripletDataset +
DataLoader(num_workers=W), as the pre-tripletstream scripts did. Prints
triplets/s and the DS-Analyzer data-stall share over --steps steps.

  /usr/bin/python3 bench/seed_trainer.py --data ../shared/data/motionsense
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_pipeline import TripletDataset, load  # noqa: E402


class CausalConv(nn.Module):
    def __init__(self, cin, cout, k, d):
        super().__init__()
        self.left = (k - 1) * d
        self.conv = nn.Conv1d(cin, cout, k, dilation=d)

    def forward(self, x):
        return self.conv(F.pad(x, (self.left, 0)))


class Block(nn.Module):
    def __init__(self, cin, cout, k, d, dropout):
        super().__init__()
        self.conv1 = CausalConv(cin, cout, k, d)
        self.conv2 = CausalConv(cout, cout, k, d)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        out = self.drop(F.relu(self.conv1(x)))
        out = self.drop(F.relu(self.conv2(out)))
        return F.relu(out + (self.proj(x) if self.proj is not None else x))


class Tcn(nn.Module):
    def __init__(self, cin=12, channels=64, levels=5, k=3, dropout=0.1, emb=128):
        super().__init__()
        blocks, c = [], cin
        for i in range(levels):
            blocks.append(Block(c, channels, k, 2 ** i, dropout))
            c = channels
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, emb)

    def forward(self, x):  # x: [N, T, C]
        h = self.blocks(x.permute(0, 2, 1)).mean(2)
        return F.normalize(self.head(h), dim=1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data",
                                                       "motionsense"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--torch_threads", type=int, default=0,
                        help="torch.set_num_threads; 0 = leave the default")
    args = parser.parse_args()
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    torch.manual_seed(1)
    windows, users, _ = load(args.data)
    dataset = TripletDataset(windows, users, augment=False)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                        num_workers=args.workers, drop_last=True,
                        persistent_workers=args.workers > 0)
    model = Tcn()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.TripletMarginLoss(margin=0.5)
    step, wait, total, started = 0, 0.0, 0.0, None
    it = iter(loader)
    while step < args.warmup + args.steps:
        t0 = time.perf_counter()
        try:
            a, p, n = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        t1 = time.perf_counter()
        e = model(torch.cat([a, p, n]))
        ea, ep, en = e.split(a.shape[0])
        loss = loss_fn(ea, ep, en)
        opt.zero_grad()
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        step += 1
        if step == args.warmup:
            started = time.perf_counter()
        elif step > args.warmup:
            wait += t1 - t0
            total += t2 - t0
    seconds = time.perf_counter() - started
    tps = args.steps * args.batch_size / seconds
    print(f"config=seed_trainer workers={args.workers} batch={args.batch_size} "
          f"steps={args.steps} triplets_per_s={tps:.1f} data_stall_pct={100 * wait / total:.2f} "
          f"torch_threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
