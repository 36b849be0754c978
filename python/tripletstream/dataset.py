"""PyTorch datasets over tripletstream servers.

TripletStream is an IterableDataset yielding ready training batches, one
epoch per iteration; StreamWindows yields the windows of a split (evaluation,
embedding); StreamLoader is a DataLoader that keeps the stream position for
exact resume with worker processes.
"""
import ctypes
import os

import grpc
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from tripletstream import _digest
from tripletstream._grpc import (TRANSIENT, DataLossError, StreamError, expand_servers,
                                 make_channel, rank_and_world_size, split_servers, tls_files)
from tripletstream._reader import EpochReader, Watchdog, first_at_or_after, readonly_tensor
from tripletstream.v1 import tripletstream_pb2 as pb
from tripletstream.v1 import tripletstream_pb2_grpc as pb_grpc

_STATE_VERSION = 1
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_malloc_tuned = False


def keep_freed_memory_for_reuse():
    """glibc serves every multi-megabyte message with a fresh mmap, page-faulted
    in and unmapped again after the step: at batch 256 that costs the client
    a third of its throughput. Keep freed memory for reuse instead (no mmap
    below 32 MiB, no trimming below 1 GiB free), as the C++ trainer does.
    Process-wide; skipped when MALLOC_MMAP_THRESHOLD_ or
    MALLOC_TRIM_THRESHOLD_ is set, or off glibc."""
    global _malloc_tuned
    if _malloc_tuned or "MALLOC_MMAP_THRESHOLD_" in os.environ or \
            "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    _malloc_tuned = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        pass


def fetch_dataset_info(servers, timeout_s=30, tls_ca=None, tls_cert=None, tls_key=None):
    """GetDatasetInfoResponse from the first server that answers."""
    errors = []
    tls = tls_files(tls_ca, tls_cert, tls_key)
    for address in expand_servers(servers):
        channel = make_channel(address, tls)
        try:
            info = pb_grpc.TripletStreamStub(channel).GetDatasetInfo(
                pb.GetDatasetInfoRequest(), timeout=timeout_s)
        except grpc.RpcError as e:
            if e.code() not in TRANSIENT:
                raise StreamError(e.code(), f"{address}: {e.details()}") from None
            errors.append(f"{address}: {e.details()}")
            continue
        finally:
            channel.close()
        if info.payload_digest != _digest.PAYLOAD_DIGEST:
            theirs = f'"{info.payload_digest}"' if info.payload_digest else "the pre-2026-11-30 hash"
            raise StreamError(grpc.StatusCode.FAILED_PRECONDITION,
                              f"{address} digests batches with {theirs} and this client checks "
                              f'"{_digest.PAYLOAD_DIGEST}": run the same tripletstream version on '
                              "both sides")
        return info
    raise StreamError(grpc.StatusCode.UNAVAILABLE,
                      "dataset info: no server answered: " + "; ".join(errors))


class TripletStream(IterableDataset):
    """Training batches from tripletstream servers, one epoch per iteration.

    Each item is a dict: "data" (float32 [3, B, T, C] for triplet batches --
    anchors, positives, negatives -- or [P*K, T, C] for P x K), "labels"
    (int32 user ids, one per window), "epoch", "index", "digest", "mode".
    Use DataLoader(ds, batch_size=None) or StreamLoader.

    Batch i of epoch e is the same bytes from any server; rank r of W readers
    gets i = r (mod W) (rank and world size from the arguments or torchrun's
    RANK and WORLD_SIZE), and DataLoader worker w of N within it
    i = r + W*w (mod W*N), spread over all servers. A server that fails or
    sends nothing for `stall_timeout_s` has its share re-served by the others
    from the first missing batch: nothing lost or repeated. Every batch's
    index, shape and (with verify) digest are checked.

    state_dict()/load_state_dict() resume exactly (same world size and
    number of workers); with worker processes use StreamLoader, which sees
    the batches the main process consumed. Tensors are read-only views of
    the received bytes. tune_malloc: see keep_freed_memory_for_reuse.
    tls_ca / tls_cert / tls_key: PEM files for TLS (mutual with cert and key).
    """

    def __init__(self, servers, mode="triplet", batch_size=64, p=16, k=4, seed=1, epoch=0,
                 rank=None, world_size=None, positive_other_session=False,
                 expected_fingerprint="", prefetch=4, stall_timeout_s=30.0,
                 give_up_after_s=60.0, verify=True, tune_malloc=True, tls_ca=None,
                 tls_cert=None, tls_key=None):
        super().__init__()
        if mode not in ("triplet", "pk"):
            raise ValueError(f"mode must be 'triplet' or 'pk', got {mode!r}")
        for name, value in (("batch_size", batch_size), ("p", p), ("k", k),
                            ("prefetch", prefetch)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        if not stall_timeout_s >= 0 or not give_up_after_s >= 0:
            raise ValueError("stall_timeout_s and give_up_after_s must be >= 0")
        self.servers = split_servers(servers)
        if not self.servers:
            raise ValueError("no servers given")
        self.rank, self.world_size = rank_and_world_size(rank, world_size)
        self.mode, self.seed = mode, seed
        self.batch_size, self.p, self.k = batch_size, p, k
        self.positive_other_session = positive_other_session
        self.fingerprint = expected_fingerprint
        self.options = dict(prefetch=prefetch, stall_timeout_s=float(stall_timeout_s),
                            give_up_after_s=float(give_up_after_s), verify=verify,
                            initial_backoff_s=0.05, max_backoff_s=2.0)
        self.epoch, self._start_index = epoch, 0
        self.tune_malloc = tune_malloc
        self.tls = tls_files(tls_ca, tls_cert, tls_key)
        self.last_stats = {}

    # -- position ---------------------------------------------------------
    def set_epoch(self, epoch):
        """The epoch the next iteration reads (from its start, unless a loaded
        state points into this epoch)."""
        if epoch != self.epoch:
            self.epoch, self._start_index = epoch, 0

    def _consumed(self, epoch, index):
        self.epoch, self._start_index = epoch, index + 1

    def _finished_epoch(self, epoch):
        self.epoch, self._start_index = epoch + 1, 0

    def state_dict(self):
        return {"version": _STATE_VERSION, "epoch": self.epoch, "next_index": self._start_index,
                "seed": self.seed, "fingerprint": self.fingerprint, "mode": self.mode,
                "batch_size": self.batch_size, "p": self.p, "k": self.k,
                "positive_other_session": self.positive_other_session,
                "rank": self.rank, "world_size": self.world_size}

    def load_state_dict(self, state):
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unknown TripletStream state version {state.get('version')}")
        for key in ("seed", "mode", "batch_size", "p", "k", "positive_other_session", "rank",
                    "world_size"):
            if state[key] != getattr(self, key):
                raise ValueError(f"state has {key}={state[key]!r}, this stream "
                                 f"{getattr(self, key)!r}: not the same stream")
        if self.fingerprint and state["fingerprint"] and state["fingerprint"] != self.fingerprint:
            raise ValueError(f"state is of dataset {state['fingerprint']}, this stream expects "
                             f"{self.fingerprint}")
        # The servers refuse another dataset (FAILED_PRECONDITION) from now on.
        self.fingerprint = state["fingerprint"] or self.fingerprint
        self.epoch, self._start_index = state["epoch"], state["next_index"]

    # -- iteration --------------------------------------------------------
    def _request(self):
        r = pb.StreamTripletsRequest(seed=self.seed,
                                     positive_other_session=self.positive_other_session,
                                     expected_fingerprint=self.fingerprint)
        if self.mode == "triplet":
            r.mode, r.batch_size = pb.SAMPLING_MODE_TRIPLET, self.batch_size
        else:
            r.mode, r.p, r.k = pb.SAMPLING_MODE_PK, self.p, self.k
        return r

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        if self.tune_malloc:
            keep_freed_memory_for_reuse()
        # The DataLoader asks worker 0 first, then 1, ...: worker w reads the
        # rank's (j0 + w)-th index and every workers-th after it, j0 being the
        # rank's position of the start index, so the main process receives
        # the rank's batches in index order from any start.
        modulus = self.world_size * workers
        first = first_at_or_after(self._start_index, self.world_size, self.rank)
        j0 = (first - self.rank) // self.world_size
        residue = self.rank + self.world_size * ((j0 + worker) % workers)
        # Channels are opened here, after DataLoader workers fork (grpcio is
        # not fork-safe).
        addresses = expand_servers(self.servers)
        channels = [make_channel(a, self.tls) for a in addresses]
        counters = {"reconnects": 0, "stalls": 0}
        per_server = [0] * len(addresses)
        epoch = self.epoch
        reader = EpochReader(channels, addresses, self._request(), epoch, self._start_index,
                             residue, modulus, self.options, counters)
        delivered = 0
        try:
            while True:
                try:
                    sample, server = reader.next()
                except StopIteration:
                    break
                per_server[server] += 1
                delivered += 1
                if info is None:
                    self._consumed(epoch, sample["index"])
                yield sample
            if delivered == 0 and self._start_index <= residue:
                raise StreamError(grpc.StatusCode.FAILED_PRECONDITION, (
                    f"epoch {epoch} has no batch for reader {residue} of {modulus} "
                    "(fewer batches per epoch than ranks x workers?)"))
            if info is None:
                self._finished_epoch(epoch)
        finally:
            reader.close()
            for c in channels:
                c.close()
            self.last_stats = {"servers": addresses, "batches_per_server": per_server,
                               **counters}


class StreamLoader(DataLoader):
    """A DataLoader over a TripletStream (batch_size=None) that records the
    position of every batch it hands out, so stream.state_dict() is exact
    with worker processes too, and starts workers from a forkserver (grpcio
    is not fork-safe). Each iteration is one epoch."""

    def __init__(self, stream, **kwargs):
        if not isinstance(stream, TripletStream):
            raise TypeError("StreamLoader needs a TripletStream")
        kwargs.setdefault("batch_size", None)
        # grpcio is not fork-safe: a worker forked from a process that has
        # used gRPC (fetched dataset info, read an earlier stream) can crash.
        # Workers start from a clean forkserver instead.
        if kwargs.get("num_workers", 0) > 0:
            kwargs.setdefault("multiprocessing_context", "forkserver")
        if kwargs.get("persistent_workers"):
            # Workers would keep the epoch and position they were started with.
            raise ValueError("StreamLoader cannot use persistent_workers: each epoch's "
                             "position must reach the workers")
        super().__init__(stream, **kwargs)
        self.stream = stream

    def __iter__(self):
        epoch = self.stream.epoch
        for sample in super().__iter__():
            self.stream._consumed(int(sample["epoch"]), int(sample["index"]))
            yield sample
        self.stream._finished_epoch(epoch)  # Only when the epoch was read to its end.

    def state_dict(self):
        return self.stream.state_dict()

    def load_state_dict(self, state):
        self.stream.load_state_dict(state)


class StreamWindows(IterableDataset):
    """Every window of a split (StreamWindows RPC), in the server's order, as
    dicts: "data" float32 [N, T, C], "users", "sessions", "offsets",
    "first_window". A server that fails or stalls is replaced by the next,
    continuing after the windows already yielded."""

    SPLITS = {"train": pb.SPLIT_TRAIN, "val": pb.SPLIT_VAL, "test": pb.SPLIT_TEST,
              "holdout": pb.SPLIT_HOLDOUT}

    def __init__(self, servers, split="test", expected_fingerprint="", batch_size=256,
                 stall_timeout_s=30.0, verify=True, tls_ca=None, tls_cert=None, tls_key=None):
        super().__init__()
        if split not in self.SPLITS:
            raise ValueError(f"split must be one of {sorted(self.SPLITS)}, got {split!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.servers = split_servers(servers)
        if not self.servers:
            raise ValueError("no servers given")
        self.split, self.fingerprint, self.batch_size = split, expected_fingerprint, batch_size
        self.stall_timeout_s, self.verify = float(stall_timeout_s), verify
        self.tls = tls_files(tls_ca, tls_cert, tls_key)

    def __iter__(self):
        request = pb.StreamWindowsRequest(split=self.SPLITS[self.split],
                                          batch_size=self.batch_size,
                                          expected_fingerprint=self.fingerprint)
        done, errors = 0, []
        watchdog = Watchdog(self.stall_timeout_s)
        try:
            for address in expand_servers(self.servers):
                channel = make_channel(address, self.tls)
                slot = watchdog.slot()
                call = pb_grpc.TripletStreamStub(channel).StreamWindows(request)
                slot.attach(call)
                try:
                    slot.begin_wait()
                    for msg in call:
                        slot.end_wait()
                        if msg.first_window + msg.shape[0] <= done:
                            slot.begin_wait()
                            continue  # Yielded from a server before this one.
                        sample = self._sample(msg, done, address)
                        done += msg.shape[0]
                        yield sample
                        slot.begin_wait()
                    slot.end_wait()
                    return
                except grpc.RpcError as e:
                    reason = (f"{address}: no window batch for {self.stall_timeout_s} s"
                              if slot.take_stalled() else f"{address}: {e.details()}")
                    if e.code() not in TRANSIENT:
                        raise StreamError(e.code(), reason) from None
                    errors.append(reason)
                finally:
                    slot.detach()
                    channel.close()
        finally:
            watchdog.stop()
        raise StreamError(grpc.StatusCode.UNAVAILABLE,
                          f"windows of {self.split}: no server delivered: " + "; ".join(errors))

    def _sample(self, msg, first, address):
        shape = list(msg.shape)
        data = msg.data
        users = np.array(msg.user_labels, dtype=np.int32)
        if (msg.first_window != first or len(shape) != 3 or len(data) != 4 * int(np.prod(shape))
                or len(users) != shape[0] or len(msg.session_labels) != shape[0]):
            raise DataLossError(f"{address}: window batch at {msg.first_window} is malformed "
                                f"or out of order (expected {first})")
        if self.verify and _digest.payload_digest(data, users) != msg.digest:
            raise DataLossError(f"{address}: window batch at {first} has a wrong digest")
        return {"data": readonly_tensor(np.frombuffer(data, dtype="<f4").reshape(shape)),
                "users": torch.from_numpy(users),
                "sessions": torch.tensor(list(msg.session_labels), dtype=torch.int32),
                "offsets": torch.tensor(list(msg.offsets), dtype=torch.int64),
                "first_window": first}
