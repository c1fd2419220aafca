"""Pure-Python work in a thread: GIL-bound."""

import threading


def load_documents(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().split("\n\n")


def score_document(text, weights):
    score = 0
    for word in text.split():
        score += weights.get(word, 1) * len(word)
    return score


def score_all(path, weights):
    threads = []
    for document in load_documents(path):
        thread = threading.Thread(target=score_document, args=(document, weights))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
