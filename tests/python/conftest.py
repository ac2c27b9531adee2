"""Shared fixtures: a real Kiln kernel process talked to over real sockets.

The kernelspec `kiln` must be installed where this interpreter's Jupyter looks
(`./install.sh` registers it into .venv; `./test.sh` refreshes it before running).
"""

import pytest
from jupyter_client.manager import start_new_kernel

TIMEOUT = 30


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="kiln", startup_timeout=60)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)
