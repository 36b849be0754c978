"""One epoch of one reader from several servers, in index order, each index
exactly once: the Python twin of client/epoch_reader.h.

Reader `residue` of `modulus` readers gets indices i = residue (mod modulus).
Its shard k of n servers holds i = residue + modulus*k (mod modulus*n) and is
streamed by one thread, normally from server k, into a bounded buffer. A
stream that fails transiently or sends nothing for `stall_timeout_s` is asked
of the next server from the shard's first missing index.
"""
import collections
import logging
import threading
import time
import warnings

import grpc
import numpy as np
import torch

from tripletstream import _digest
from tripletstream._grpc import TRANSIENT, DataLossError, StreamError
from tripletstream._wire import RawBatch
from tripletstream.v1 import tripletstream_pb2 as pb

log = logging.getLogger("tripletstream")
_END = object()
_MAX_CORRUPT_BATCHES = 2  # Per shard, asked of another server before failing.


class _Cancelled(Exception):
    pass


class BoundedBuffer:
    """FIFO with blocking push when full and pop when empty; an exception or
    _END element stays at the head; cancel() wakes every waiter."""

    def __init__(self, capacity):
        self._items = collections.deque()
        self._capacity = max(1, capacity)
        self._cv = threading.Condition()
        self._cancelled = False

    def push(self, item, force=False):
        with self._cv:
            while not force and not self._cancelled and len(self._items) >= self._capacity:
                self._cv.wait()
            if self._cancelled:
                return False
            self._items.append(item)
            self._cv.notify_all()
            return True

    def pop(self):
        with self._cv:
            while not self._cancelled and not self._items:
                self._cv.wait()
            if self._cancelled:
                raise _Cancelled()
            item = self._items[0]
            if item is _END or isinstance(item, BaseException):
                return item
            self._items.popleft()
            self._cv.notify_all()
            return item

    def cancel(self):
        with self._cv:
            self._cancelled = True
            self._cv.notify_all()


class Watchdog:
    """Cancels a call whose current read has waited longer than `timeout`
    (the progress deadline); sleeps until the earliest deadline, no polling."""

    def __init__(self, timeout):
        self.timeout = timeout
        self._cv = threading.Condition()
        self._slots = set()
        self._stopping = False
        if timeout > 0:
            threading.Thread(target=self._run, daemon=True, name="ts-watchdog").start()

    def slot(self):
        s = _Slot(self)
        with self._cv:
            self._slots.add(s)
        return s

    def stop(self):
        with self._cv:
            self._stopping = True
            self._slots.clear()
            self._cv.notify_all()

    def _run(self):
        with self._cv:
            while not self._stopping:
                now = time.monotonic()
                wake = now + self.timeout
                for s in self._slots:
                    started = s.started  # Read once: the shard thread clears it unlocked.
                    if started is None or s.call is None or s.stalled:
                        continue
                    if now - started >= self.timeout:
                        s.stalled = True
                        s.call.cancel()
                    else:
                        wake = min(wake, started + self.timeout)
                self._cv.wait(max(0.0, wake - now))


class _Slot:
    def __init__(self, watchdog):
        self._w = watchdog
        self.call = None
        self.started = None
        self.stalled = False
        self.cancelled = False

    def attach(self, call):
        with self._w._cv:
            self.call, self.started, self.stalled = call, time.monotonic(), False
            if self.cancelled:
                call.cancel()
            return not self.cancelled

    def detach(self):
        with self._w._cv:
            self.call, self.started = None, None

    def begin_wait(self):
        self.started = time.monotonic()

    def end_wait(self):
        self.started = None

    def take_stalled(self):
        with self._w._cv:
            stalled, self.stalled = self.stalled, False
            return stalled

    def cancel(self):
        with self._w._cv:
            self.cancelled = True
            if self.call is not None:
                self.call.cancel()


def check_batch(msg, epoch, index, verify):
    """DataLossError unless `msg` (a RawBatch) is well-formed batch `index`
    of `epoch`: shape against data size and label count, digest."""
    if msg.epoch != epoch or msg.index != index:
        raise DataLossError(f"expected batch {index} of epoch {epoch}, "
                            f"got batch {msg.index} of epoch {msg.epoch}")
    shape = msg.shape
    triplet = msg.mode == pb.SAMPLING_MODE_TRIPLET
    rank = 4 if triplet else 3
    n = int(np.prod(shape)) if shape and min(shape) > 0 else -1
    windows = (shape[0] * shape[1] if triplet else shape[0]) if len(shape) == rank else -1
    if (len(shape) != rank or n < 0 or (triplet and shape[0] != 3) or msg.data_size != 4 * n
            or len(msg.labels) != windows):
        raise DataLossError(f"batch {index} is malformed: shape {shape}, "
                            f"{msg.data_size} data bytes, {len(msg.labels)} labels")
    if verify and _digest.payload_digest(msg.raw, msg.labels, msg.data_offset,
                                         msg.data_size) != msg.digest:
        raise DataLossError(f"batch {index} of epoch {epoch} has a wrong digest")


def readonly_tensor(values):
    """torch.from_numpy of a read-only array (received bytes, no copy),
    without the warning PyTorch prints for it; writing into it is undefined."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(values)


def to_sample(msg):
    """The dict a TripletStream yields; the tensor views the received bytes."""
    values = np.frombuffer(msg.raw, dtype="<f4", count=msg.data_size // 4,
                           offset=msg.data_offset).reshape(msg.shape)
    return {
        "data": readonly_tensor(values),
        "labels": torch.from_numpy(msg.labels),
        "epoch": msg.epoch,
        "index": msg.index,
        "digest": msg.digest,
        "mode": "triplet" if msg.mode == pb.SAMPLING_MODE_TRIPLET else "pk",
    }


_STREAM_TRIPLETS = "/tripletstream.v1.TripletStream/StreamTriplets"


class _Shard:
    def __init__(self, k, count, residue, next_index, capacity):
        self.k, self.count, self.residue = k, count, residue
        self.next_index = next_index
        self.batches_per_epoch = 0
        self.buffer = BoundedBuffer(capacity)
        self.slot = None


def first_at_or_after(start, modulus, residue):
    return start + ((residue - start % modulus) % modulus + modulus) % modulus


class EpochReader:
    """See the module comment. next() returns sample dicts; StopIteration at
    the end; StreamError (DataLossError, UNAVAILABLE after give_up_after_s,
    a server's permanent error) otherwise."""

    def __init__(self, channels, addresses, request, epoch, start_index, residue, modulus,
                 options, counters):
        self._channels, self._addresses = channels, addresses
        self._request, self._epoch = request, epoch
        self._residue, self._modulus = residue, modulus
        self._o, self._counters = options, counters
        self._cancelled = threading.Event()
        self._watchdog = Watchdog(options["stall_timeout_s"])
        self._next = first_at_or_after(start_index, modulus, residue)
        n = len(addresses)
        self._shards = []
        for k in range(n):
            index = residue + modulus * k
            shard = _Shard(k, modulus * n, index,
                           first_at_or_after(start_index, modulus * n, index), options["prefetch"])
            shard.slot = self._watchdog.slot()
            self._shards.append(shard)
        self._threads = [threading.Thread(target=self._run_shard, args=(s,), daemon=True,
                                          name=f"ts-shard-{s.k}") for s in self._shards]
        for t in self._threads:
            t.start()

    def next(self):
        j = (self._next - self._residue) // self._modulus
        item = self._shards[j % len(self._shards)].buffer.pop()
        if item is _END:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        self._next += self._modulus
        return item

    def close(self):
        self._cancelled.set()
        for s in self._shards:
            s.slot.cancel()
            s.buffer.cancel()
        for t in self._threads:
            t.join()
        self._watchdog.stop()

    def _run_shard(self, shard):
        n = len(self._addresses)
        server, backoff = shard.k, self._o["initial_backoff_s"]
        last_progress = time.monotonic()
        corrupt = 0
        while True:
            try:
                progressed = [False]
                self._stream_shard(shard, server, progressed)
                shard.buffer.push(_END, force=True)
                return
            except _Cancelled:
                return
            except StreamError as e:
                if self._cancelled.is_set():
                    return
                if progressed[0]:
                    backoff, last_progress = self._o["initial_backoff_s"], time.monotonic()
                # Batches are deterministic: another server can resend a
                # corrupted one, a few times per shard.
                resend = isinstance(e, DataLossError) and corrupt < _MAX_CORRUPT_BATCHES
                corrupt += isinstance(e, DataLossError)
                if e.code not in TRANSIENT and not resend:
                    shard.buffer.push(e, force=True)
                    return
                error = e
            except BaseException as e:  # noqa: B902 -- the consumer must hear of it.
                shard.buffer.push(e, force=True)
                return
            # Transient: ask the next server, after a backoff.
            waited = time.monotonic() - last_progress
            if waited > self._o["give_up_after_s"]:
                shard.buffer.push(StreamError(grpc.StatusCode.UNAVAILABLE, (
                    f"shard {shard.k} of {n}: no server delivered for {waited:.0f} s "
                    f"(give_up_after_s); last error: {error}")), force=True)
                return
            nxt = (server + 1) % n
            log.warning("shard %d of epoch %d: %s; re-requesting from batch %d on %s",
                        shard.k, self._epoch, error, shard.next_index, self._addresses[nxt])
            self._counters["reconnects"] += 1
            server = nxt
            if self._cancelled.wait(backoff):
                return
            backoff = min(2 * backoff, self._o["max_backoff_s"])

    def _stream_shard(self, shard, server, progressed):
        address = self._addresses[server]
        request = pb.StreamTripletsRequest()
        request.CopyFrom(self._request)
        request.split = pb.SPLIT_TRAIN
        request.epoch = self._epoch
        request.start_index = shard.next_index
        request.shard.count = shard.count
        request.shard.index = shard.residue
        request.max_batches = 0
        # Raw responses: RawBatch reads them without copying the payload.
        call = self._channels[server].unary_stream(
            _STREAM_TRIPLETS, request_serializer=pb.StreamTripletsRequest.SerializeToString,
            response_deserializer=None)(request)
        if not shard.slot.attach(call):
            raise _Cancelled()
        try:
            shard.slot.begin_wait()
            for raw in call:
                shard.slot.end_wait()
                try:
                    msg = RawBatch(raw)
                    check_batch(msg, self._epoch, shard.next_index, self._o["verify"])
                except DataLossError as e:
                    call.cancel()
                    raise DataLossError(f"{address}: {e}") from None
                shard.batches_per_epoch = msg.batches_per_epoch
                if not shard.buffer.push((to_sample(msg), server)):
                    call.cancel()
                    raise _Cancelled()
                shard.next_index += shard.count
                progressed[0] = True
                shard.slot.begin_wait()
            shard.slot.end_wait()
        except grpc.RpcError as e:
            shard.slot.end_wait()
            if self._cancelled.is_set():
                raise _Cancelled() from None
            if shard.slot.take_stalled():
                self._counters["stalls"] += 1
                raise StreamError(grpc.StatusCode.UNAVAILABLE, (
                    f"{address}: no batch for {self._o['stall_timeout_s']} s "
                    "(stall_timeout_s): server frozen or overloaded")) from None
            raise StreamError(e.code(), f"{address}: {e.details()}") from None
        finally:
            shard.slot.detach()
        if shard.batches_per_epoch and shard.next_index < shard.batches_per_epoch:
            raise StreamError(grpc.StatusCode.UNAVAILABLE,
                              f"{address}: stream ended at batch {shard.next_index}, "
                              f"before {shard.batches_per_epoch}")
