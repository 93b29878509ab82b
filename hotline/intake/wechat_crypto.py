"""WeChat push safe mode (安全模式): the message body is AES-256-CBC encrypted with the
account's EncodingAESKey, and ``msg_signature`` signs the ciphertext. Sans-I/O.

As the public documentation describes it: key = base64(EncodingAESKey + "="), IV = key[:16],
PKCS#7 padding to 32 bytes; the plaintext is 16 random bytes, the message length (4 bytes,
network order), the message, then the AppID (which must be ours)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.utils.translation import gettext_noop

BLOCK = 32


class CryptoError(ValueError):
    """The ciphertext cannot be ours (bad key, padding, length or AppID)."""


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as error:
        raise CryptoError(gettext_noop("the EncodingAESKey is not valid")) from error
    if len(key) != 32:
        raise CryptoError(gettext_noop("the EncodingAESKey is not valid"))
    return key


def msg_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted((token, timestamp, nonce, encrypted)))
    # SHA-1 is what the WeChat protocol prescribes.
    return hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()


def encrypt(key: bytes, app_id: str, message: bytes, random16: bytes | None = None) -> str:
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message
    plain += app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(key: bytes, app_id: str, encrypted: str) -> bytes:
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CryptoError(gettext_noop("the encrypted message is not base64")) from error
    if not data or len(data) % 16:
        raise CryptoError(gettext_noop("the encrypted message has a bad length"))
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
        raise CryptoError(gettext_noop("the encrypted message has bad padding"))
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, tail = plain[20:20 + length], plain[20 + length:]
    if len(message) != length or tail.decode("utf-8", "replace") != app_id:
        raise CryptoError(gettext_noop("the encrypted message is not for this account"))
    return message
