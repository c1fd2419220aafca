"""A method of an object sent to a thread pool: GIL-bound."""

from concurrent.futures import ThreadPoolExecutor


class PriceModel:
    def __init__(self, base, volatility):
        self.base = base
        self.volatility = volatility

    def simulate(self, steps):
        price = self.base
        total = 0.0
        for step in range(steps):
            price = price * (1 + self.volatility * ((step * 7919) % 13 - 6) / 100)
            total += price
        return total / max(steps, 1)


def simulate_all(base, volatility, scenarios):
    model = PriceModel(base, volatility)
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(model.simulate, scenarios))


def simulate_one(base, volatility, steps):
    model = PriceModel(base, volatility)
    with ThreadPoolExecutor(2) as pool:
        return pool.submit(model.simulate, steps).result()
