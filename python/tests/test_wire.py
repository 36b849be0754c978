"""RawBatch against the generated protobuf code: the same fields, payload in
place, unknown fields skipped, damage detected."""
import numpy as np
import pytest

from tripletstream import DataLossError, payload_digest
from tripletstream._wire import RawBatch
from tripletstream.v1 import tripletstream_pb2 as pb


def batch(labels):
    data = np.arange(3 * 2 * 4 * 1, dtype="<f4").tobytes()
    msg = pb.Batch(epoch=3, index=(1 << 40), batches_per_epoch=7,
                   mode=pb.SAMPLING_MODE_TRIPLET, shape=[3, 2, 4, 1],
                   dtype=pb.DTYPE_FLOAT32, data=data, labels=labels)
    msg.digest = payload_digest(data, np.array(labels, np.int32))
    return msg


@pytest.mark.parametrize("labels", [[0, 1, 2, 3, 4, 5], [0, 127, 128, 300, 70000, 5]])
def test_fields_match_the_generated_parser(labels):
    msg = batch(labels)
    raw = RawBatch(msg.SerializeToString())
    assert (raw.epoch, raw.index, raw.batches_per_epoch) == (3, 1 << 40, 7)
    assert raw.mode == pb.SAMPLING_MODE_TRIPLET and raw.dtype == pb.DTYPE_FLOAT32
    assert raw.shape == [3, 2, 4, 1]
    assert raw.labels.tolist() == labels
    assert raw.digest == msg.digest
    assert raw.raw[raw.data_offset:raw.data_offset + raw.data_size] == msg.data
    assert payload_digest(raw.raw, raw.labels, raw.data_offset, raw.data_size) == msg.digest


def test_unknown_fields_are_skipped():
    msg = batch([0, 1, 2, 3, 4, 5])
    # Field 100 as varint, length-delimited, fixed32 and fixed64.
    extra = bytes([0xA0, 0x06, 0x05, 0xA2, 0x06, 0x02, 0x61, 0x62, 0xA5, 0x06, 1, 2, 3, 4,
                   0xA1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8])
    raw = RawBatch(msg.SerializeToString() + extra)
    assert raw.index == 1 << 40 and raw.labels.tolist() == [0, 1, 2, 3, 4, 5]


def test_truncated_messages_are_data_loss():
    wire = batch([0, 1, 2, 3, 4, 5]).SerializeToString()
    for cut in (1, len(wire) // 2, len(wire) - 3):
        with pytest.raises(DataLossError):
            RawBatch(wire[:cut])


def test_labels_in_several_packed_chunks_and_groups_are_read_in_order():
    msg = batch([0, 1, 2, 3, 4, 5])
    msg.ClearField("labels")
    wire = msg.SerializeToString()
    # labels (field 8) as two packed chunks, the second with a 2-byte varint;
    # then an unknown group (field 20) holding a varint.
    chunk1 = bytes([0x42, 3, 0, 1, 2])
    chunk2 = bytes([0x42, 4, 3, 4, 0x80, 0x01])
    group = bytes([0xA3, 0x01, 0x08, 0x07, 0xA4, 0x01])
    raw = RawBatch(wire + chunk1 + chunk2 + group)
    assert raw.labels.tolist() == [0, 1, 2, 3, 4, 128]
