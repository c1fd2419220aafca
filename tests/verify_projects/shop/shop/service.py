"""A coroutine that blocks the event loop with CPU work (GIL301)."""

import asyncio


def rank(rows):
    scored = []
    for row in rows:
        distance = 0.0
        for other in rows:
            distance += abs(row["score"] - other["score"])
        scored.append((distance, row["id"]))
    return sorted(scored)


async def handle_rank(rows):
    await asyncio.sleep(0)
    return rank(rows)
