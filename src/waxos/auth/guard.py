"""What stands in front of password hashing: a throttle per client address and a bounded hashing pool.

The per-email lockout in `waxos.auth.service` stops guessing one account's password, but not a flood of
logins for random emails: each still costs an argon2 verification, deliberately expensive, and enough of
them at once starved every other endpoint of the process (`bench/auth.py --login-flood` measures it).
So, before any database work:

- `AddressThrottle`: a token bucket per client address (an IPv6 address counts by its /64, which one
  host usually holds whole), with room for a burst; beyond it the answer is 429 with `Retry-After`.
- `HashingPool`: verifications run on a few threads of their own, never on the loop's shared executor;
  a bounded number may wait for one, and a login beyond that is refused at once (503, `Retry-After`)
  rather than queued without end. Other endpoints keep the rest of the CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from waxos.auth.errors import LoginBusy
from waxos.auth.passwords import verify_password


def address_key(address: str) -> str:
    """The key a client address is throttled under: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class AddressThrottle:
    """Token buckets per client address: `per_minute` attempts a minute, that many at once at most.

    Remembers at most `max_addresses` buckets, forgetting the least recently used (a forgotten
    address starts again with a full bucket: the cost of a bounded memory).
    """

    def __init__(
        self, per_minute: int, *, max_addresses: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._max = max_addresses
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, address: str) -> int | None:
        """Take one attempt for `address`: None when it may go ahead, else the seconds to wait."""
        key = address_key(address)
        now = self._clock()
        tokens, then = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - then) * self._rate)
        if tokens >= 1.0:
            tokens -= 1.0
            waiting = None
        else:
            waiting = max(1, math.ceil((1.0 - tokens) / self._rate))
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return waiting


class HashingPool:
    """Password verifications on `concurrency` threads of their own, at most `max_waiting` queued.

    `concurrency` 0 means half the CPUs, at least one: an argon2 verification keeps a core busy while it
    runs, and the other half stays free for every other endpoint, whatever the flood.
    """

    def __init__(
        self,
        concurrency: int,
        max_waiting: int,
        verify: Callable[[str | None, str], bool] = verify_password,
    ) -> None:
        concurrency = concurrency or max(1, (os.cpu_count() or 2) // 2)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="waxos-hash")
        self._slots = asyncio.Semaphore(concurrency)
        self._capacity = concurrency + max_waiting
        self._admitted = 0
        self._verify = verify

    @contextlib.asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """A place in the pool for one login, or `LoginBusy` at once when it is full.

        Taken before the login touches the database, so a refused one has not counted as an attempt.
        """
        if self._admitted >= self._capacity:
            raise LoginBusy(retry_after=1)
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """`verify_password` on the pool's threads, waiting for one of them (inside `admitted`)."""
        async with self._slots:
            loop = asyncio.get_running_loop()
            # argon2 releases the GIL: the loop serves other requests meanwhile.
            return await loop.run_in_executor(self._executor, self._verify, password_hash, password)

    def close(self) -> None:
        """Stop the threads once what they run is done."""
        self._executor.shutdown(wait=False, cancel_futures=True)
