"""Fixtures: real tripletstream-server processes on 127.0.0.1 port 0 serving
the bundled MotionSense sample (TS_BIN: the build's bin folder, TS_SOURCE:
the source tree; CTest sets both)."""
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

BIN = os.environ.get("TS_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
SOURCE = os.environ.get("TS_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
SERVER_FLAGS = [
    f"--data={SOURCE}/testdata/motionsense_sample",
    r"--user_regex=A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv",
    "--stride=4", "--split=1,0,0", "--stats_interval_s=0", "--threads=1",
    "--shutdown_grace_s=1",
]


class Server:
    def __init__(self, extra=()):
        self.log = tempfile.NamedTemporaryFile(prefix="ts-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([f"{BIN}/tripletstream-server", "--port=0", *SERVER_FLAGS,
                                      *extra], stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {open(self.log.name).read()}")
            m = re.search(r"serving on [^ ]*:(\d+)", open(self.log.name).read())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError("server did not start within 60 s")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        os.unlink(self.log.name)


@pytest.fixture
def servers():
    started = [Server(), Server()]
    yield started
    for s in started:
        s.stop()
