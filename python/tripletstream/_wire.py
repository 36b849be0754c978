"""A reader of serialized Batch messages that does not copy the payload.

Parsing with the generated class copies the tensor bytes twice (into the
message, then into a Python bytes object on access); here the serialized
message gRPC hands over is the only copy, and tensors view it. Fields are
those of tripletstream.v1.Batch; unknown fields are skipped as protobuf
requires, so newer servers that add fields still parse.
"""
import numpy as np

from tripletstream._grpc import DataLossError

# Batch field numbers (proto/tripletstream/v1/tripletstream.proto).
_EPOCH, _INDEX, _BATCHES, _MODE, _SHAPE, _DTYPE, _DATA, _LABELS, _DIGEST = range(1, 10)


def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DataLossError("truncated or malformed varint in a batch message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _packed_varints(buf, start, end):
    out = []
    pos = start
    while pos < end:
        v, pos = _varint(buf, pos)
        out.append(_signed64(v))
    if pos != end:
        raise DataLossError("malformed packed field in a batch message")
    return out


def _skip_group(buf, pos, field):
    """Past the end-group tag of `field` (groups are deprecated but legal)."""
    while True:
        tag, pos = _varint(buf, pos)
        kind = tag & 7
        if kind == 4:
            if tag >> 3 != field:
                raise DataLossError("mismatched group in a batch message")
            return pos
        if kind == 0:
            _, pos = _varint(buf, pos)
        elif kind == 1:
            pos += 8
        elif kind == 2:
            size, pos = _varint(buf, pos)
            pos += size
        elif kind == 5:
            pos += 4
        elif kind == 3:
            pos = _skip_group(buf, pos, tag >> 3)
        else:
            raise DataLossError(f"unknown wire type {kind} in a batch message")
        if pos > len(buf):
            raise DataLossError("truncated batch message")


class RawBatch:
    """The fields of one serialized Batch; `data` is a memoryview into `raw`."""
    __slots__ = ("raw", "epoch", "index", "batches_per_epoch", "mode", "shape", "dtype",
                 "data_offset", "data_size", "labels", "digest")

    def __init__(self, raw):
        self.raw = raw
        self.epoch = self.index = self.batches_per_epoch = self.mode = self.dtype = 0
        self.shape, self.labels, self.digest = [], np.zeros(0, np.int32), 0
        self.data_offset = self.data_size = 0
        buf, pos, n = raw, 0, len(raw)
        labels, packed_labels = [], None
        while pos < n:
            tag, pos = _varint(buf, pos)
            field, kind = tag >> 3, tag & 7
            if kind == 0:
                value, pos = _varint(buf, pos)
                if field == _EPOCH:
                    self.epoch = _signed64(value)
                elif field == _INDEX:
                    self.index = _signed64(value)
                elif field == _BATCHES:
                    self.batches_per_epoch = _signed64(value)
                elif field == _MODE:
                    self.mode = value
                elif field == _DTYPE:
                    self.dtype = value
                elif field == _SHAPE:
                    self.shape.append(_signed64(value))
                elif field == _LABELS:
                    labels.append(_signed64(value) & 0xFFFFFFFF)
            elif kind == 1:
                if pos + 8 > n:
                    raise DataLossError("truncated batch message")
                if field == _DIGEST:
                    self.digest = int.from_bytes(buf[pos:pos + 8], "little")
                pos += 8
            elif kind == 2:
                size, pos = _varint(buf, pos)
                end = pos + size
                if end > n:
                    raise DataLossError("truncated batch message")
                if field == _DATA:
                    self.data_offset, self.data_size = pos, size
                elif field == _SHAPE:
                    self.shape += _packed_varints(buf, pos, end)
                elif field == _LABELS:
                    segment = np.frombuffer(buf, np.uint8, count=size, offset=pos)
                    if size and not labels and packed_labels is None and segment.max() < 0x80:
                        packed_labels = segment.astype(np.int32)  # One byte per id < 128.
                    else:
                        if packed_labels is not None:
                            labels += packed_labels.tolist()
                            packed_labels = None
                        labels += [v & 0xFFFFFFFF for v in _packed_varints(buf, pos, end)]
                pos = end
            elif kind == 5:
                pos += 4
            elif kind == 3:
                pos = _skip_group(buf, pos, field)
            else:
                raise DataLossError(f"unknown wire type {kind} in a batch message")
            if pos > n:
                raise DataLossError("truncated batch message")
        if packed_labels is not None and not labels:
            self.labels = packed_labels
        elif packed_labels is not None or labels:
            if packed_labels is not None:
                labels = packed_labels.tolist() + labels
            self.labels = np.array(labels, np.uint32).view(np.int32)
