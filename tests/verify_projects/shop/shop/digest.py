"""GIL-releasing C in a thread: hashlib on large buffers releases the GIL."""

import hashlib
import threading


def fingerprint(blob):
    digest = hashlib.sha256()
    for _ in range(4):
        digest.update(blob)
    return digest.hexdigest()


def fingerprint_all(blobs):
    for blob in blobs:
        threading.Thread(target=fingerprint, args=(blob,)).start()  # gillint: verify
