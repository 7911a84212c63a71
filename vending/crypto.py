"""Vending keys at rest: AES-256-GCM under a key that lives only in the environment.

The stored blob is version byte ‖ nonce (12) ‖ tag (16) ‖ ciphertext. The record's identity goes in
as associated data, so a blob copied onto another supply group does not decrypt.
"""

import hashlib

from Crypto.Cipher import AES
from Crypto.Random import get_random_bytes
from django.conf import settings

_VERSION = b"\x01"


def _master_key() -> bytes:
    return hashlib.sha256(settings.VENDING_KEY_ENCRYPTION_KEY.encode()).digest()


def encrypt_secret(plaintext: bytes, *, context: str) -> bytes:
    nonce = get_random_bytes(12)
    cipher = AES.new(_master_key(), AES.MODE_GCM, nonce=nonce)
    cipher.update(context.encode())
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return _VERSION + nonce + tag + ciphertext


def decrypt_secret(blob: bytes, *, context: str) -> bytes:
    blob = bytes(blob)
    if not blob.startswith(_VERSION):
        raise ValueError("unknown secret format")
    nonce, tag, ciphertext = blob[1:13], blob[13:29], blob[29:]
    cipher = AES.new(_master_key(), AES.MODE_GCM, nonce=nonce)
    cipher.update(context.encode())
    return cipher.decrypt_and_verify(ciphertext, tag)
