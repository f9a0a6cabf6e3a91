"""Quiet command lines: the libraries' start-up and internal logs are hidden unless ``--verbose``.

TensorFlow 2.21 writes its start-up lines (oneDNN, ``cudart_stub``, ``cuInit``, CPU features,
"before absl::InitializeLog") from C++ straight to file descriptor 2, twice per process;
``TF_CPP_MIN_LOG_LEVEL`` does not silence them, nor the TFLite converter's internals or LiteRT's
XNNPACK line. :func:`quiet_libraries` therefore puts a filter on descriptor 2 itself: a pipe whose
reader thread drops the lines that match :data:`NOISE` and passes every other line (the package's
own messages, warnings it means, Python tracebacks) to the real standard error, in order. It also
lowers the Python-side loggers of TensorFlow, absl and Keras to errors.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
import warnings

#: Lines of the libraries' own logging that a command-line user does not need (``--verbose``
#: shows them): absl/glog-formatted C++ logs (``I0000 00:00:… file.cc:123] …``), their preamble,
#: TensorFlow's CPU-feature banner, the TFLite converter's and LiteRT's internals.
NOISE = re.compile(
    r"^(?:"
    r"[IWE]\d{4} [\d:. ]+\d+ [\w.]+:\d+\]"  # absl C++ log lines (not F: fatal)
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions:"
    r"|This TensorFlow binary is optimized"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate"
    r"|INFO: Initialized TensorFlow Lite runtime"
    r"|fully_quantize: \d+, inference_type: \d+"
    r"|Estimated count of arithmetic ops:"
    r"|W\d{4} "  # absl warnings without a file reference
    r")"
)


class _Filter:
    """The reader side of descriptor 2's pipe: forwards every line but the noisy ones."""

    def __init__(self) -> None:
        self.real = os.dup(2)
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self.read = read
        self.thread = threading.Thread(target=self._pump, name="stderr-filter", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            out = b"".join(line + b"\n" for line in lines if not NOISE.match(line.decode("utf-8", "replace")))
            if out:
                os.write(self.real, out)
        if pending and not NOISE.match(pending.decode("utf-8", "replace")):
            os.write(self.real, pending)

    def close(self) -> None:
        """Restore descriptor 2 and forward what is still in the pipe."""
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self.real, 2)  # closes the pipe's last write end: the reader sees the end
        self.thread.join(timeout=2.0)
        os.close(self.read)
        os.close(self.real)


_ACTIVE: list[_Filter] = []


def quiet_libraries() -> None:
    """Hide the libraries' logs for the rest of this process (idempotent)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl", "keras", "h5py", "matplotlib", "PIL", "keras_tuner"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|keras_tuner|tf_keras)(\.|$)")
    if _ACTIVE or not _can_filter():
        return
    _ACTIVE.append(_Filter())
    atexit.register(_ACTIVE[0].close)


def _can_filter() -> bool:
    try:
        os.fstat(2)
    except OSError:
        return False
    return hasattr(os, "pipe") and hasattr(os, "dup2")
