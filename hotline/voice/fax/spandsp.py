"""A thin ctypes wrapper over Debian's libspandsp2 (0.0.6): one T.30 fax terminal on audio.

Only the calls the gateway needs: ``fax_init`` (calling or answering side), ``fax_rx`` (feed
8 kHz linear samples heard from the line), ``fax_tx`` (samples to send), the T.30 receive and
transmit files, the phase-E (end of call) handler and the transfer statistics. Sans-I/O: the
caller moves audio; this object never touches a socket or a clock."""

from __future__ import annotations

import ctypes
import ctypes.util
from array import array
from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 8000
_LIBRARY_NAMES = ("libspandsp.so.2", "spandsp")

# t30_phase_e_handler_t: void (*)(t30_state_t *s, void *user_data, int completion_code)
_PHASE_E = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
T30_ERR_OK = 0


class SpandspMissing(RuntimeError):
    """libspandsp2 is not installed (apt-get install libspandsp2)."""


class _T30Stats(ctypes.Structure):
    # The head of spandsp 0.0.6's t30_stats_t; the real struct is longer, so the buffer we
    # pass is padded (see ``transfer_statistics``).
    _fields_ = [
        ("bit_rate", ctypes.c_int),
        ("error_correcting_mode", ctypes.c_int),
        ("pages_tx", ctypes.c_int),
        ("pages_rx", ctypes.c_int),
        ("pages_in_file", ctypes.c_int),
        ("x_resolution", ctypes.c_int),
        ("y_resolution", ctypes.c_int),
        ("width", ctypes.c_int),
        ("length", ctypes.c_int),
        ("image_size", ctypes.c_int),
        ("encoding", ctypes.c_int),
        ("bad_rows", ctypes.c_int),
        ("longest_bad_row_run", ctypes.c_int),
        ("error_correcting_mode_retries", ctypes.c_int),
        ("current_status", ctypes.c_int),
        ("_padding", ctypes.c_int * 64),
    ]


_lib: Any = None


def library() -> Any:
    """Load libspandsp once and declare the signatures we use."""
    global _lib
    if _lib is not None:
        return _lib
    lib = None
    for name in _LIBRARY_NAMES:
        path = name if name.endswith(".2") else ctypes.util.find_library(name)
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError:
            continue
    if lib is None:
        raise SpandspMissing("libspandsp2 is not installed")
    vp, c_int = ctypes.c_void_p, ctypes.c_int
    samples = ctypes.POINTER(ctypes.c_int16)
    lib.fax_init.argtypes, lib.fax_init.restype = [vp, c_int], vp
    lib.fax_free.argtypes, lib.fax_free.restype = [vp], c_int
    lib.fax_rx.argtypes, lib.fax_rx.restype = [vp, samples, c_int], c_int
    lib.fax_tx.argtypes, lib.fax_tx.restype = [vp, samples, c_int], c_int
    lib.fax_get_t30_state.argtypes, lib.fax_get_t30_state.restype = [vp], vp
    lib.fax_set_transmit_on_idle.argtypes, lib.fax_set_transmit_on_idle.restype = [vp, c_int], None
    lib.t30_set_rx_file.argtypes = [vp, ctypes.c_char_p, c_int]
    lib.t30_set_rx_file.restype = None
    lib.t30_set_tx_file.argtypes = [vp, ctypes.c_char_p, c_int, c_int]
    lib.t30_set_tx_file.restype = None
    lib.t30_set_phase_e_handler.argtypes = [vp, _PHASE_E, vp]
    lib.t30_set_phase_e_handler.restype = None
    lib.t30_get_transfer_statistics.argtypes = [vp, ctypes.POINTER(_T30Stats)]
    lib.t30_get_transfer_statistics.restype = None
    _lib = lib
    return lib


def available() -> bool:
    try:
        library()
    except SpandspMissing:
        return False
    return True


@dataclass(frozen=True)
class FaxResult:
    completion_code: int  # T30_ERR_*: 0 is success
    pages_tx: int
    pages_rx: int

    @property
    def ok(self) -> bool:
        return self.completion_code == T30_ERR_OK


class FaxTerminal:
    """One side of a fax call. ``calling=True`` is the side that dialled (sends CNG)."""

    def __init__(self, *, calling: bool) -> None:
        self._lib = library()
        self._state = self._lib.fax_init(None, 1 if calling else 0)
        if not self._state:
            raise RuntimeError("fax_init failed")
        self._t30 = self._lib.fax_get_t30_state(self._state)
        # Keep sending silence when T.30 has nothing to say, so the RTP stream has no holes.
        self._lib.fax_set_transmit_on_idle(self._state, 1)
        self.result: FaxResult | None = None
        self._handler = _PHASE_E(self._phase_e)  # kept alive as long as the terminal
        self._lib.t30_set_phase_e_handler(self._t30, self._handler, None)
        self._paths: list[bytes] = []  # spandsp keeps the char*; keep the bytes alive

    def receive_to(self, tiff_path: str) -> None:
        """Pages received are written to this TIFF file."""
        path = tiff_path.encode()
        self._paths.append(path)
        self._lib.t30_set_rx_file(self._t30, path, -1)

    def send_from(self, tiff_path: str) -> None:
        """Transmit every page of this TIFF file (bilevel, fax widths and resolutions)."""
        path = tiff_path.encode()
        self._paths.append(path)
        self._lib.t30_set_tx_file(self._t30, path, -1, -1)

    def _phase_e(self, _t30: int | None, _user: int | None, completion_code: int) -> None:
        stats = self.transfer_statistics()
        self.result = FaxResult(completion_code, stats.pages_tx, stats.pages_rx)

    def transfer_statistics(self) -> _T30Stats:
        stats = _T30Stats()
        self._lib.t30_get_transfer_statistics(self._t30, ctypes.byref(stats))
        return stats

    @property
    def done(self) -> bool:
        return self.result is not None

    def rx(self, samples: array) -> None:  # type: ignore[type-arg]
        """Feed 16-bit linear samples heard from the line."""
        if not len(samples):
            return
        address, length = samples.buffer_info()
        self._lib.fax_rx(self._state, ctypes.cast(address, ctypes.POINTER(ctypes.c_int16)),
                         length)

    def tx(self, count: int) -> array:  # type: ignore[type-arg]
        """Up to ``count`` samples to send; padded with silence to exactly ``count``."""
        out = array("h", bytes(2 * count))
        address, _ = out.buffer_info()
        self._lib.fax_tx(self._state, ctypes.cast(address, ctypes.POINTER(ctypes.c_int16)),
                         count)
        return out

    def close(self) -> None:
        if self._state:
            self._lib.fax_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
