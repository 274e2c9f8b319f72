"""The client the build talks to a kernel with: an AsyncKernelClient that is ready as soon as its kernel is.

jupyter_client's ``wait_for_ready`` sends ``kernel_info``, takes the reply, checks that IOPub
delivers something, and then drains IOPub until it has been silent for 0.2 s, so every kernel
start costs a fifth of a second of waiting for nothing. A kernel publishes ``busy`` and then
``idle`` on IOPub around each request it handles, with the request as their parent, and IOPub
delivers in order: once the ``idle`` of our ``kernel_info`` has arrived, IOPub is connected and
everything the kernel published while starting has arrived before it. So this client is ready at
that message. A kernel that never publishes that ``idle`` gets jupyter_client's own treatment.
Nothing else changes: the executing client takes only the messages whose parent is the request
it sent (nbclient filters by parent), so what a start-up left on IOPub never reaches a cell.

Imported where a kernel is started: it imports jupyter_client.
"""
from __future__ import annotations

import time
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous import AsyncKernelClient

# As jupyter_client: how long the kernel_info reply may take before kernel_info is asked again...
SHELL_REPLY_SECONDS = 1.0
# ...and how long IOPub may take to deliver the request's status before it is taken as not yet connected
# (a subscription made after the kernel published is not sent what it missed: the request is sent again).
IOPUB_CONNECT_SECONDS = 0.2
# A socket connected before its kernel listens tries again after this many ms, doubling up to the maximum.
RECONNECT_MS = 5
RECONNECT_MAX_MS = 100
# For a kernel that does not publish the request's idle: IOPub is drained until silent this long (jupyter_client).
IOPUB_QUIET_SECONDS = 0.2


class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
    """An AsyncKernelClient whose ``wait_for_ready`` ends at the kernel_info request's ``idle`` on IOPub."""

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
        # Connected before the kernel has bound its ports, a socket tries again after ZeroMQ's reconnect
        # interval, 100 ms by default: a tenth of a second lost at every start. Try again sooner, backing off.
        self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        self.context.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_MAX_MS)
        return super()._create_connected_socket(channel, identity)

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            request = self.kernel_info()
            reply = await self._shell_reply()
            if reply is not None and await self._iopub_connected(request):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError("Kernel didn't respond in %d seconds" % timeout)

    async def _shell_reply(self) -> dict[str, Any] | None:
        try:
            msg = await self.shell_channel.get_msg(timeout=SHELL_REPLY_SECONDS)
        except Empty:
            return None
        return msg if msg["msg_type"] == "kernel_info_reply" else None

    async def _iopub_connected(self, request: str) -> bool:
        """Whether IOPub delivers: True once the request's idle status has arrived, or, from a kernel that does
        not say when it is idle, once other messages have and IOPub has then been drained as jupyter_client
        does; False when nothing arrived (IOPub not yet connected)."""
        deadline = time.monotonic() + IOPUB_CONNECT_SECONDS
        seen = False
        while True:
            msg = await self._iopub_message(deadline - time.monotonic())
            if msg is None:
                if seen:
                    await self._drain_iopub()
                return seen
            seen = True
            if (msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == request
                    and msg["content"].get("execution_state") == "idle"):
                return True

    async def _drain_iopub(self) -> None:
        while await self._iopub_message(IOPUB_QUIET_SECONDS) is not None:
            pass

    async def _iopub_message(self, seconds: float) -> dict[str, Any] | None:
        """The next IOPub message, or None if none comes within ``seconds``."""
        if seconds <= 0:
            return None
        try:
            return await self.iopub_channel.get_msg(timeout=seconds)
        except Empty:
            return None
