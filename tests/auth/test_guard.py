"""The guard in front of password hashing: a throttle per client address, a bounded hashing pool."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from waxos.auth.errors import LoginBusy
from waxos.auth.guard import AddressThrottle, HashingPool, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_gets_its_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    throttle = AddressThrottle(3, clock=clock)
    assert [throttle.retry_after("10.0.0.1") for _ in range(3)] == [None, None, None]
    assert throttle.retry_after("10.0.0.1") == 20  # 3 a minute: one every 20 s
    assert throttle.retry_after("10.0.0.2") is None  # another address has its own bucket
    clock.now += 20
    assert throttle.retry_after("10.0.0.1") is None
    assert throttle.retry_after("10.0.0.1") == 20
    clock.now += 3_600
    assert [throttle.retry_after("10.0.0.1") for _ in range(4)] == [None, None, None, 20]


def test_hammering_gets_no_more_than_the_rate() -> None:
    clock = Clock()
    throttle = AddressThrottle(60, clock=clock)
    allowed = 0
    for _ in range(800):  # eight tries a second for 100 s
        allowed += throttle.retry_after("a") is None
        clock.now += 0.125
    assert 60 + 99 <= allowed <= 60 + 100  # the burst, then one a second


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not-an-address", "not-an-address"),
        ("", ""),
    ],
)
def test_an_ipv6_host_counts_by_its_64(address: str, key: str) -> None:
    assert address_key(address) == key


def test_memory_is_bounded_by_forgetting_the_least_recent_address() -> None:
    throttle = AddressThrottle(1, max_addresses=2, clock=Clock())
    for address in ("a", "b"):
        assert throttle.retry_after(address) is None
    assert throttle.retry_after("a") is not None  # a is now the most recent
    assert throttle.retry_after("c") is None  # b is forgotten
    assert throttle.retry_after("a") is not None
    assert throttle.retry_after("b") is None  # a fresh bucket


async def test_the_pool_runs_a_bounded_number_and_refuses_beyond_its_queue() -> None:
    release = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def slow_verify(password_hash: str | None, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        return password == "right"

    pool = HashingPool(concurrency=2, max_waiting=3, verify=slow_verify)

    async def login(password: str) -> str:
        try:
            async with pool.admitted():
                return "ok" if await pool.verify("hash", password) else "wrong"
        except LoginBusy as busy:
            return f"busy {busy.retry_after}"

    attempts = [asyncio.create_task(login("right" if n == 0 else "guess")) for n in range(8)]
    for _ in range(20):
        await asyncio.sleep(0.01)
    # Two verifying, three waiting: the other three were refused at once, before anything ran.
    done = [task.result() for task in attempts if task.done()]
    assert done == ["busy 1"] * 3
    release.set()
    results = await asyncio.gather(*attempts)
    assert sorted(results) == ["busy 1"] * 3 + ["ok"] + ["wrong"] * 4
    assert most == 2
    # Room again once they are done.
    async with pool.admitted():
        assert await pool.verify("hash", "right")
    pool.close()


async def test_by_default_half_the_cpus_hash_and_none_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    pool = HashingPool(concurrency=0, max_waiting=0)
    entered = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(4):
            await stack.enter_async_context(pool.admitted())
            entered.append(True)
        with pytest.raises(LoginBusy):
            await stack.enter_async_context(pool.admitted())
    assert len(entered) == 4
    pool.close()
