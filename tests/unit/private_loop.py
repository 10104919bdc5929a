"""Run a coroutine on a loop of its own.

``asyncio.run`` leaves the main thread with no current event loop when it ends, and later
tests in the same worker (python-libmaas in twin/tests) call ``asyncio.get_event_loop()``.
"""

import asyncio


def run(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
