import asyncio
import threading

from shop import digest, misc, pricing, service, text


def test_score_document():
    words = ("alpha beta gamma delta " * 5000).strip()
    assert text.score_document(words, {"alpha": 2}) > 0
    assert text.score_document("a b", {}) == 2


def test_price_model():
    assert pricing.simulate_one(100.0, 0.5, 200_000) > 0
    assert len(pricing.simulate_all(100.0, 0.5, [10, 20])) == 2


def test_fingerprint():
    assert len(digest.fingerprint(b"x" * 4_000_000)) == 64


def test_handle_rank():
    rows = [{"id": i, "score": (i * 37) % 101} for i in range(700)]
    assert len(asyncio.run(service.handle_rank(rows))) == 700


def test_drain():
    assert misc.drain(threading.Lock(), range(1000)) > 0
