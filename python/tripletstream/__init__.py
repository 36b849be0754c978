"""Stream training batches from tripletstream servers into PyTorch.

    from tripletstream import TripletStream, StreamLoader
    stream = TripletStream("dns:///tripletstream-server:50051", batch_size=64)
    loader = StreamLoader(stream, num_workers=2, pin_memory=True)
    for epoch in range(10):
        for batch in loader:
            anchors, positives, negatives = batch["data"]
"""
from tripletstream._digest import combine_digest, payload_digest
from tripletstream._grpc import DataLossError, StreamError, expand_servers
from tripletstream.dataset import (StreamLoader, StreamWindows, TripletStream,
                                   fetch_dataset_info)

__all__ = ["TripletStream", "StreamLoader", "StreamWindows", "fetch_dataset_info",
           "StreamError", "DataLossError", "expand_servers", "payload_digest",
           "combine_digest"]
