"""The Python client against real servers: exactly-once across servers,
workers and ranks; failover on kill and freeze; exact resume; corrupted
batches; bad arguments."""
import threading
from concurrent import futures

import grpc
import pytest
import torch

import tripletstream
from tripletstream import (DataLossError, StreamError, StreamLoader, StreamWindows,
                           TripletStream, fetch_dataset_info)
from tripletstream.v1 import tripletstream_pb2 as pb
from tripletstream.v1 import tripletstream_pb2_grpc as pb_grpc

B = 8


def read(loader_or_stream):
    return [(int(b["epoch"]), int(b["index"]), int(b["digest"])) for b in loader_or_stream]


def reference(server, epoch=0):
    stream = TripletStream(server.address, batch_size=B, epoch=epoch)
    return read(stream)


def test_one_epoch_in_order_with_well_formed_tensors(servers):
    stream = TripletStream([s.address for s in servers], batch_size=B)
    batches = list(DataLoaderNoWorkers(stream))
    assert [int(b["index"]) for b in batches] == list(range(len(batches)))
    first = batches[0]
    assert first["data"].dtype == torch.float32
    assert first["data"].shape[:2] == (3, B)
    assert first["labels"].shape == (3 * B,)
    assert first["mode"] == "triplet"
    assert stream.last_stats["batches_per_server"][0] > 0
    assert stream.last_stats["batches_per_server"][1] > 0
    assert stream.state_dict()["epoch"] == 1  # The epoch was read to its end.


def DataLoaderNoWorkers(stream):
    return torch.utils.data.DataLoader(stream, batch_size=None)


def test_exactly_once_over_2_servers_2_workers_2_ranks(servers):
    expected = reference(servers[0])
    seen = []
    for rank in (0, 1):
        stream = TripletStream([s.address for s in servers], batch_size=B, rank=rank,
                               world_size=2)
        got = read(StreamLoader(stream, num_workers=2))
        assert all(i % 2 == rank for _, i, _ in got)
        assert [i for _, i, _ in got] == sorted(i for _, i, _ in got)  # In order per rank.
        seen += got
    assert sorted(seen) == sorted(expected)


def test_rank_and_world_size_come_from_the_torchrun_environment(servers, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    stream = TripletStream(servers[0].address, batch_size=B)
    assert (stream.rank, stream.world_size) == (1, 3)
    assert all(i % 3 == 1 for _, i, _ in read(stream))


def failover_run(servers, disturb, **kwargs):
    stream = TripletStream([s.address for s in servers], batch_size=B, prefetch=1, **kwargs)
    got = []
    for b in DataLoaderNoWorkers(stream):
        got.append((int(b["epoch"]), int(b["index"]), int(b["digest"])))
        if len(got) == 3:
            disturb()
    return got, stream


def test_killed_server_is_failed_over_exactly_once(servers):
    expected = reference(servers[0])
    got, stream = failover_run(servers, servers[1].kill)
    assert got == expected
    assert stream.last_stats["reconnects"] >= 1


def test_frozen_server_is_failed_over_after_the_stall_timeout(servers):
    expected = reference(servers[0])
    got, stream = failover_run(servers, servers[1].freeze, stall_timeout_s=1)
    servers[1].thaw()
    assert got == expected
    assert stream.last_stats["stalls"] >= 1
    assert reference(servers[1]) == expected  # Usable again after SIGCONT.


@pytest.mark.parametrize("stop_after", [50, 51])  # Even and odd: workers rotate.
def test_state_dict_resumes_the_uninterrupted_stream_with_workers(servers, stop_after):
    addresses = [s.address for s in servers]
    expected = reference(servers[0]) + reference(servers[0], epoch=1)
    stream = TripletStream(addresses, batch_size=B)
    loader = StreamLoader(stream, num_workers=2)
    got = []
    for b in loader:
        got.append((int(b["epoch"]), int(b["index"]), int(b["digest"])))
        if len(got) == stop_after:
            break
    state = loader.state_dict()
    assert (state["epoch"], state["next_index"]) == (0, stop_after)
    resumed = TripletStream(addresses, batch_size=B)
    resumed_loader = StreamLoader(resumed, num_workers=2)
    resumed_loader.load_state_dict(state)
    got += read(resumed_loader)  # The rest of epoch 0...
    got += read(resumed_loader)  # ...and epoch 1.
    assert got == expected


def test_persistent_workers_are_refused(servers):
    with pytest.raises(ValueError, match="persistent_workers"):
        StreamLoader(TripletStream(servers[0].address), num_workers=1, persistent_workers=True)


def test_state_of_another_stream_is_refused(servers):
    state = TripletStream(servers[0].address, batch_size=B).state_dict()
    with pytest.raises(ValueError, match="batch_size"):
        TripletStream(servers[0].address, batch_size=2 * B).load_state_dict(state)
    state["fingerprint"] = "0000000000000000"
    stream = TripletStream(servers[0].address, batch_size=B)
    stream.load_state_dict(state)
    with pytest.raises(StreamError) as e:
        next(iter(stream))
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION


class CorruptServicer(pb_grpc.TripletStreamServicer):
    def StreamTriplets(self, request, context):
        batch = pb.Batch(epoch=request.epoch, index=0, batches_per_epoch=1,
                         mode=pb.SAMPLING_MODE_TRIPLET, shape=[3, 1, 2, 1],
                         data=b"\0" * 24, labels=[0, 0, 1], digest=12345)
        yield batch


def test_a_corrupted_batch_raises_data_loss():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_TripletStreamServicer_to_server(CorruptServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with pytest.raises(DataLossError, match="wrong digest"):
            next(iter(TripletStream(f"127.0.0.1:{port}", batch_size=1)))
        assert len(list(TripletStream(f"127.0.0.1:{port}", batch_size=1, verify=False))) == 1
    finally:
        server.stop(0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="mode"):
        TripletStream("a:1", mode="quad")
    with pytest.raises(ValueError, match="batch_size"):
        TripletStream("a:1", batch_size=0)
    with pytest.raises(ValueError, match="rank"):
        TripletStream("a:1", rank=2, world_size=2)
    with pytest.raises(ValueError, match="no servers"):
        TripletStream("")
    with pytest.raises(ValueError, match="no port"):
        next(iter(TripletStream("localhost")))


def test_unreachable_servers_give_up_with_unavailable():
    stream = TripletStream("127.0.0.1:1", batch_size=B, give_up_after_s=0.5)
    with pytest.raises(StreamError) as e:
        next(iter(stream))
    assert e.value.code == grpc.StatusCode.UNAVAILABLE
    assert "127.0.0.1:1" in str(e.value)


def test_windows_of_a_split_and_dataset_info(servers):
    info = fetch_dataset_info(["127.0.0.1:1", servers[0].address], timeout_s=2)
    total = {s.split: s.windows for s in info.splits}[pb.SPLIT_TRAIN]
    windows = list(StreamWindows([s.address for s in servers], split="train",
                                 expected_fingerprint=info.fingerprint))
    assert sum(w["data"].shape[0] for w in windows) == total
    assert windows[0]["data"].shape[1:] == (info.window_length, len(info.channel_names))


def test_windows_fail_over_from_a_frozen_server(servers):
    expected = list(StreamWindows(servers[1].address, split="train", batch_size=64))
    servers[0].freeze()
    got = list(StreamWindows([s.address for s in servers], split="train", batch_size=64,
                             stall_timeout_s=1))
    servers[0].thaw()
    assert len(got) == len(expected)
    assert all(torch.equal(a["data"], b["data"]) for a, b in zip(got, expected))


def test_digest_library_recomputes_the_servers_digest(servers):
    batch = next(iter(TripletStream(servers[0].address, batch_size=B, verify=False)))
    data = batch["data"].numpy().tobytes()
    assert tripletstream.payload_digest(data, batch["labels"].numpy()) == batch["digest"]
    flipped = bytes([data[0] ^ 1]) + data[1:]
    assert tripletstream.payload_digest(flipped, batch["labels"].numpy()) != batch["digest"]
