"""Targets the recorder cannot help with: an unpicklable argument, a function no test calls."""

import threading


def drain(lock, items):
    total = 0
    for item in items:
        with lock:
            total += item * item
    return total


def never_tested(values):
    total = 0
    for value in values:
        total += value * value
    return total


def start(items):
    lock = threading.Lock()
    threading.Thread(target=drain, args=(lock, items)).start()
    threading.Thread(target=never_tested, args=(items,)).start()
