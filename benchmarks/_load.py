"""What the benchmarks of a busy machine share: spinning processes, and one BLAS thread."""

import subprocess
import sys
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController, threadpool_info

#: Found once: threadpool_limits() would look for the libraries again on every call.
CONTROLLER = ThreadpoolController()


def one_thread(fn, *args):
    """``fn(*args)`` with every BLAS library on one thread."""
    with CONTROLLER.limit(limits=1):
        fn(*args)


@contextmanager
def busy(n):
    """``n`` processes that spin beside the block (as other jobs on a shared machine do)."""
    threads = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"BLAS threads by default: {threads}; {n} busy processes")
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for process in spin:
            process.kill()
            process.wait()
