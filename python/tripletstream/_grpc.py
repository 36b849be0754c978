"""Channels, server lists and error classes shared by the package (the Python
twin of client/grpc_util.h and client/server_list.h)."""
import os
import socket

import grpc

# Codes another attempt or another server may not see (client/grpc_util.h).
TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
})

# Keepalive pings while a call is open, also while the server sends nothing
# (tripletstream-server accepts one every 5 s); no message size limit.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.keepalive_time_ms", 10000),
    ("grpc.keepalive_timeout_ms", 10000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class StreamError(Exception):
    """A stream failed for good; `code` is the grpc.StatusCode."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code


class DataLossError(StreamError):
    """A batch arrived corrupted, out of order or malformed."""

    def __init__(self, message):
        super().__init__(grpc.StatusCode.DATA_LOSS, message)


def tls_files(ca=None, cert=None, key=None):
    """Checked TLS settings: None for plaintext, else a dict of PEM bytes.
    ca: the CA the servers' certificates chain to; cert/key: this client's
    certificate for mutual TLS."""
    if not (ca or cert or key):
        return None
    if bool(cert) != bool(key):
        raise ValueError("tls_cert and tls_key go together")
    out = {}
    for name, path in (("ca", ca), ("cert", cert), ("key", key)):
        if not path:
            out[name] = None
            continue
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ValueError(f"tls_{name}: cannot read {path}: {e.strerror}") from None
        if b"-----BEGIN " not in data:
            raise ValueError(f"tls_{name}: {path} is not a PEM file")
        out[name] = data
    return out


def make_channel(address, tls=None):
    """A channel with the package's options; TLS when `tls` (from tls_files)."""
    if tls is None:
        return grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    credentials = grpc.ssl_channel_credentials(root_certificates=tls["ca"],
                                               private_key=tls["key"],
                                               certificate_chain=tls["cert"])
    return grpc.secure_channel(address, credentials, options=CHANNEL_OPTIONS)


def split_servers(servers):
    """A list of entries from a list or a comma separated string."""
    if isinstance(servers, str):
        servers = servers.split(",")
    return [s.strip() for s in servers if s and s.strip()]


def _resolve(entry):
    target = entry[len("dns:///"):]
    host, sep, port = target.rpartition(":")
    if not sep or not port:
        raise ValueError(f"server '{entry}' has no port")
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ValueError(f"cannot resolve '{entry}': {e}") from None
    out = []
    for family, _, _, _, sockaddr in infos:
        out.append(f"[{sockaddr[0]}]:{port}" if family == socket.AF_INET6
                   else f"{sockaddr[0]}:{port}")
    return sorted(set(out))


def expand_servers(servers):
    """Server entries -> addresses, as the C++ ExpandServers: dns:///NAME:PORT
    is every address NAME resolves to (sorted), ipv4:/ipv6: prefixes are
    dropped, duplicates removed, order kept."""
    out = []
    for entry in split_servers(servers):
        if entry.startswith("dns:///"):
            addresses = _resolve(entry)
        else:
            plain = entry
            for scheme in ("ipv4:", "ipv6:"):
                if plain.startswith(scheme):
                    plain = plain[len(scheme):]
            if not plain or ":" not in plain:
                raise ValueError(f"server '{entry}' has no port")
            addresses = [plain]
        for address in addresses:
            if address not in out:
                out.append(address)
    if not out:
        raise ValueError("no servers given")
    return out


def rank_and_world_size(rank=None, world_size=None):
    """From the arguments, else torchrun's RANK and WORLD_SIZE, else 0 of 1."""
    if world_size is None:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if rank is None:
        rank = int(os.environ.get("RANK", "0"))
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size), got rank {rank} of {world_size}")
    return rank, world_size
