"""EA09 (DEA): single DES in ECB mode on the block as 8 big-endian bytes (pycryptodome's DES).

Also the primitive of DKGA02. DES ignores the key's parity bits, so any 8 bytes are a key.
The 2018 edition withdrew EA09 for new products; meters in the field still use it.

Speed. Vending uses each decoder key once, and ``DES.new(key, MODE_ECB)`` builds a cipher handle
and an ECB mode object in Python for it (about 3 µs, more than the DES itself). So this module
drives pycryptodome's compiled DES (``Crypto/Cipher/_raw_des``) directly through ctypes: the key
schedule (``DES_start_operation``), the state's own encrypt/decrypt function (the first fields of
pycryptodome's ``BlockBase`` state struct) and ``DES_stop_operation``: about 1.7 µs in all. The
binding is checked at import against the FIPS 81 DES example (encryption and decryption); if the
library cannot be found or loaded, or answers wrongly, the module silently uses ``DES.new``.
:class:`DesKey` keeps one key's schedule for many blocks (DKGA02 uses one vending key for every
meter). Calls are serialised by a lock: the state and output buffers are shared.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import threading
from collections.abc import Callable

# FIPS 81 (ECB example): key 0123456789ABCDEF, "Now is t" → 3FA40E8A984D4815.
_KAT_KEY = bytes.fromhex("0123456789abcdef")
_KAT_PLAIN = 0x4E6F772069732074
_KAT_CIPHER = 0x3FA40E8A984D4815


class _BlockBase(ctypes.Structure):
    # pycryptodome's src/block_base.h: every cipher state starts with these fields.
    _fields_ = (
        ("encrypt", ctypes.c_void_p),
        ("decrypt", ctypes.c_void_p),
        ("destructor", ctypes.c_void_p),
        ("block_len", ctypes.c_size_t),
    )


def _raw_des_path() -> str | None:
    """The file of pycryptodome's compiled DES, found without importing the Crypto package."""
    spec = importlib.machinery.PathFinder.find_spec("Crypto")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(location, "Cipher", "_raw_des" + suffix)
            if os.path.exists(path):
                return path
    return None


_Crypt = Callable[[int, bytes], int]  # (block, key) -> block
_OneKey = Callable[[int], int]  # block -> block under a key set beforehand


def _raw_binding() -> tuple[_Crypt, _Crypt, Callable[[bytes], _OneKey]] | None:
    """(encrypt, decrypt, one-key encryptor factory) over the compiled DES, or None."""
    path = _raw_des_path()
    if path is None:
        return None
    # PyDLL keeps the GIL over each call: cheaper than releasing it for a microsecond of work.
    lib = ctypes.PyDLL(path)
    start = lib.DES_start_operation
    start.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p)
    start.restype = ctypes.c_int
    stop = lib.DES_stop_operation
    stop.argtypes = (ctypes.c_void_p,)
    stop.restype = ctypes.c_int
    state = ctypes.c_void_p()
    state_ref = ctypes.byref(state)
    if start(_KAT_KEY, 8, state_ref) != 0 or not state.value:
        return None
    base = _BlockBase.from_address(state.value)
    if base.block_len != 8 or not base.encrypt or not base.decrypt:
        stop(state)
        return None
    op_type = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t)
    # The operations are the same static functions for every DES state: read them once.
    enc_op, dec_op = op_type(base.encrypt), op_type(base.decrypt)
    stop(state)
    out = ctypes.create_string_buffer(8)
    lock = threading.Lock()

    def make(op: Callable[..., int]) -> _Crypt:
        def crypt(block: int, key: bytes) -> int:
            if len(key) != 8:
                raise ValueError(f"Incorrect DES key length ({len(key)} bytes)")
            with lock:
                if start(key, 8, state_ref) != 0:
                    raise ValueError("DES key schedule failed")
                try:
                    op(state, block.to_bytes(8, "big"), out, 8)
                finally:
                    stop(state)
                return int.from_bytes(out.raw, "big")

        return crypt

    def encryptor(key: bytes) -> _OneKey:
        if len(key) != 8:
            raise ValueError(f"Incorrect DES key length ({len(key)} bytes)")
        own = ctypes.c_void_p()
        if start(key, 8, ctypes.byref(own)) != 0:
            raise ValueError("DES key schedule failed")
        own_out = ctypes.create_string_buffer(8)
        # Freed with the closure (weakref.finalize would cost an import for a handful of keys).
        finalizer = _Stopper(stop, own)

        def encrypt(block: int, _keep: _Stopper = finalizer) -> int:
            with lock:
                enc_op(own, block.to_bytes(8, "big"), own_out, 8)
                return int.from_bytes(own_out.raw, "big")

        return encrypt

    encrypt, decrypt = make(enc_op), make(dec_op)
    if encrypt(_KAT_PLAIN, _KAT_KEY) != _KAT_CIPHER or decrypt(_KAT_CIPHER, _KAT_KEY) != _KAT_PLAIN:
        return None
    if encryptor(_KAT_KEY)(_KAT_PLAIN) != _KAT_CIPHER:
        return None
    return encrypt, decrypt, encryptor


class _Stopper:
    """Frees a kept DES state when the last reference to it goes."""

    __slots__ = ("_state", "_stop")

    def __init__(self, stop: Callable[[ctypes.c_void_p], int], state: ctypes.c_void_p) -> None:
        self._stop, self._state = stop, state

    def __del__(self) -> None:
        try:
            if self._state.value:
                self._stop(self._state)
                self._state.value = None
        except Exception:  # noqa: S110 - interpreter shutdown: nothing left to free it for
            pass


def _pycryptodome_binding() -> tuple[_Crypt, _Crypt, Callable[[bytes], _OneKey]]:
    from Crypto.Cipher import DES

    mode, new = DES.MODE_ECB, DES.new

    def encrypt(block: int, key: bytes) -> int:
        return int.from_bytes(new(key, mode).encrypt(block.to_bytes(8, "big")), "big")

    def decrypt(block: int, key: bytes) -> int:
        return int.from_bytes(new(key, mode).decrypt(block.to_bytes(8, "big")), "big")

    def encryptor(key: bytes) -> _OneKey:
        cipher = new(key, mode).encrypt
        return lambda block: int.from_bytes(cipher(block.to_bytes(8, "big")), "big")

    return encrypt, decrypt, encryptor


def _binding() -> tuple[_Crypt, _Crypt, Callable[[bytes], _OneKey]]:
    try:
        raw = _raw_binding()
    except (OSError, AttributeError, ValueError, TypeError):
        raw = None
    return raw if raw is not None else _pycryptodome_binding()


_encrypt, _decrypt, _encryptor = _binding()
RAW = _encrypt.__qualname__.startswith("_raw_binding")  # which binding is in use (for tests)


def des_encrypt(block: int, key: bytes) -> int:
    """DES-ECB encryption of a 64-bit integer block."""
    return _encrypt(block, key)


def des_decrypt(block: int, key: bytes) -> int:
    """DES-ECB decryption of a 64-bit integer block."""
    return _decrypt(block, key)


_kept: dict[bytes, _OneKey] = {}


def des_encryptor(key: bytes) -> _OneKey:
    """``block -> DES(key, block)`` with the key schedule done once (kept for a few keys)."""
    found = _kept.get(key)
    if found is None:
        if len(_kept) >= 16:
            _kept.clear()
        found = _kept[key] = _encryptor(key)
    return found
