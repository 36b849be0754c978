"""Pull batches from tripletstream servers with the Python client and check
them, like tripletstream-probe (same last line and digest).

    PYTHONPATH=build/python /usr/bin/python3 -m tripletstream.probe \\
        --servers=127.0.0.1:50051 --batch_size=64 --epochs=3
"""
import argparse
import sys
import time

from tripletstream import StreamError, StreamLoader, TripletStream, combine_digest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="127.0.0.1:50051")
    ap.add_argument("--mode", default="triplet", choices=["triplet", "pk"])
    ap.add_argument("--batch_size", type=int, default=64)
    ap.add_argument("--p", type=int, default=16)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--prefetch", type=int, default=4)
    ap.add_argument("--stall_timeout_s", type=float, default=30)
    ap.add_argument("--give_up_after_s", type=float, default=60)
    ap.add_argument("--verify", type=int, default=1, help="1 = check every digest")
    ap.add_argument("--tls_ca", default=None, help="PEM CA of the servers: TLS")
    ap.add_argument("--tls_cert", default=None, help="PEM client certificate (mutual TLS)")
    ap.add_argument("--tls_key", default=None, help="PEM key of --tls_cert")
    a = ap.parse_args(argv)
    if a.epochs < 1:
        ap.error("--epochs must be >= 1")
    try:
        stream = TripletStream(a.servers, mode=a.mode, batch_size=a.batch_size, p=a.p, k=a.k,
                               seed=a.seed, epoch=a.epoch, prefetch=a.prefetch,
                               stall_timeout_s=a.stall_timeout_s,
                               give_up_after_s=a.give_up_after_s, verify=bool(a.verify),
                               tls_ca=a.tls_ca, tls_cert=a.tls_cert, tls_key=a.tls_key)
    except ValueError as e:
        ap.error(str(e))
    loader = StreamLoader(stream, num_workers=a.workers)
    batches = triplets = payload = 0
    digest = 0
    started = time.monotonic()
    try:
        for _ in range(a.epochs):
            epoch_digest = 0
            for batch in loader:
                epoch_digest = combine_digest(epoch_digest, int(batch["digest"]))
                batches += 1
                n = batch["labels"].numel()
                triplets += n // 3 if batch["mode"] == "triplet" else n
                payload += batch["data"].numel() * 4
            digest = epoch_digest if a.epochs == 1 else combine_digest(digest, epoch_digest)
    except StreamError as e:
        print(f"tripletstream.probe: {e}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    print(f"batches={batches} triplets={triplets} seconds={seconds:.3f} "
          f"batches_per_s={batches / seconds:.1f} triplets_per_s={triplets / seconds:.0f} "
          f"mb_per_s={payload / 1e6 / seconds:.1f} digest={digest:016x}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
