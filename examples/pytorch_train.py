#!/usr/bin/python3
"""Train a TCN embedding with triplet loss in PyTorch, fed by tripletstream
servers, and evaluate it (EER, top-1) as the C++ trainer does.

The path a PyTorch user copies: a TripletStream (an IterableDataset of ready
batches) behind a StreamLoader (a DataLoader that keeps the stream position),
the seed design's TCN, triplet margin loss, AdamW, a checkpoint that holds the
stream's state_dict for exact resume, and evaluation on StreamWindows.

  PYTHONPATH=build/python /usr/bin/python3 examples/pytorch_train.py \\
      --servers=127.0.0.1:50051 --steps=500 [--workers=1] [--checkpoint=ckpt.pt]

Ranks come from torchrun's RANK / WORLD_SIZE when set (each rank reads its
own share of every epoch; gradients are not averaged here).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tripletstream import (StreamError, StreamLoader, StreamWindows, TripletStream,
                           fetch_dataset_info)


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
    """Dilated causal residual blocks, average pooling over time, linear
    head, L2-normalized embedding (trainer/tcn.h in PyTorch)."""

    def __init__(self, cin, channels=64, levels=5, k=3, dropout=0.1, emb=128):
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


def embed(model, windows):
    """Embeddings, users and sessions of every window of a StreamWindows."""
    model.eval()
    out, users, sessions = [], [], []
    with torch.no_grad():
        for w in windows:
            out.append(model(w["data"]))
            users.append(w["users"])
            sessions.append(w["sessions"])
    model.train()
    if not out:
        return None, None, None
    return torch.cat(out), torch.cat(users), torch.cat(sessions)


def eer(genuine, impostor):
    """Equal error rate: where FRR (genuine < t) meets FAR (impostor >= t)."""
    scores = np.concatenate([genuine, impostor])
    best = (2.0, 0.0)
    for t in np.unique(scores):
        frr = np.mean(genuine < t)
        far = np.mean(impostor >= t)
        best = min(best, (abs(frr - far), (frr + far) / 2))
    return best[1]


def verify(enroll, enroll_users, probe, probe_users):
    """Templates = normalized mean of each user's enrollment embeddings;
    cosine scores of every probe against every template: (EER %, top-1 %)."""
    ids = sorted(set(enroll_users.tolist()) & set(probe_users.tolist()))
    if len(ids) < 2:
        return None
    templates = F.normalize(torch.stack([enroll[enroll_users == u].mean(0) for u in ids]), dim=1)
    keep = torch.tensor([u in ids for u in probe_users.tolist()])
    probe, probe_users = probe[keep], probe_users[keep]
    scores = probe @ templates.T
    own = torch.tensor([ids.index(u) for u in probe_users.tolist()])
    genuine_mask = F.one_hot(own, len(ids)).bool()
    top1 = (scores.argmax(1) == own).float().mean().item()
    return 100 * eer(scores[genuine_mask].numpy(), scores[~genuine_mask].numpy()), 100 * top1


def evaluate(model, servers, fingerprint):
    """Open-set on the test users (first half of each user's sessions
    enroll), else cross-session (train sessions enroll, holdout probe)."""
    e, u, s = embed(model, StreamWindows(servers, "test", fingerprint))
    if e is not None:
        enroll = torch.zeros(len(u), dtype=torch.bool)
        for user in u.unique():
            mine = (u == user)
            ids = s[mine].unique()
            first = ids[: (len(ids) + 1) // 2]
            enroll |= mine & torch.isin(s, first)
        return "open-set", verify(e[enroll], u[enroll], e[~enroll], u[~enroll])
    eh, uh, _ = embed(model, StreamWindows(servers, "holdout", fingerprint))
    if eh is None:
        return "none", None
    et, ut, _ = embed(model, StreamWindows(servers, "train", fingerprint))
    return "cross-session", verify(et, ut, eh, uh)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="127.0.0.1:50051")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=5, help="steps not timed")
    ap.add_argument("--batch_size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--torch_threads", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--margin", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--checkpoint", default="", help="file to save to and resume from")
    ap.add_argument("--eval", type=int, default=1)
    ap.add_argument("--log_every", type=int, default=50)
    a = ap.parse_args()
    if a.steps < 1 or a.batch_size < 1 or a.workers < 0 or not a.lr > 0:
        ap.error("--steps and --batch_size must be >= 1, --workers >= 0, --lr > 0")
    if a.torch_threads > 0:
        torch.set_num_threads(a.torch_threads)
    torch.manual_seed(a.seed)
    try:
        info = fetch_dataset_info(a.servers)
    except StreamError as e:
        sys.exit(f"pytorch_train.py: {e}")
    stream = TripletStream(a.servers, batch_size=a.batch_size, seed=a.seed,
                           expected_fingerprint=info.fingerprint)
    loader = StreamLoader(stream, num_workers=a.workers, pin_memory=torch.cuda.is_available())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Tcn(len(info.channel_names)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    loss_fn = nn.TripletMarginLoss(margin=a.margin)
    step = 0
    if a.checkpoint and os.path.exists(a.checkpoint):
        saved = torch.load(a.checkpoint)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        loader.load_state_dict(saved["stream"])
        step = saved["step"]
        print(f"resumed at step {step}, epoch {stream.epoch}, batch {saved['stream']['next_index']}")
    wait = total = 0.0
    timed_steps, started, first_step = 0, None, step
    try:
        while step < a.steps:
            it = iter(loader)
            while step < a.steps:
                t0 = time.perf_counter()
                batch = next(it, None)
                if batch is None:
                    break  # End of the epoch: the next iter() reads the next one.
                t1 = time.perf_counter()
                x = batch["data"].to(device, non_blocking=True)
                e = model(x.flatten(0, 1))  # [3B, T, C]: anchors, positives, negatives.
                ea, ep, en = e.split(x.shape[1])
                loss = loss_fn(ea, ep, en)
                opt.zero_grad()
                loss.backward()
                opt.step()
                t2 = time.perf_counter()
                step += 1
                if step - first_step == a.warmup:
                    started = time.perf_counter()
                elif step - first_step > a.warmup:
                    wait, total, timed_steps = wait + t1 - t0, total + t2 - t0, timed_steps + 1
                if a.log_every and step % a.log_every == 0:
                    print(f"epoch {batch['epoch']} step {step}/{a.steps} loss {loss.item():.4f}")
            del it
    except StreamError as e:
        sys.exit(f"pytorch_train.py: {e}")
    if a.checkpoint:
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                    "stream": loader.state_dict(), "step": step}, a.checkpoint)
    line = f"steps={step}"
    if started is not None and timed_steps > 0:
        seconds = time.perf_counter() - started
        line += (f" triplets_per_s={timed_steps * a.batch_size / seconds:.1f}"
                 f" data_stall_pct={100 * wait / total:.2f}")
    if a.eval:
        protocol, scores = evaluate(model.cpu(), a.servers, info.fingerprint)
        if scores is not None:
            line += f" protocol={protocol} eer_pct={scores[0]:.2f} top1_pct={scores[1]:.2f}"
    print(line + f" torch_threads={torch.get_num_threads()} workers={a.workers}")


if __name__ == "__main__":
    main()
