"""Data-parallel training over MPI: a small communicator around mpi4py (the ``juanji[mpi]`` extra).

Each of P ranks holds the whole model. For a global batch of B examples, rank r takes the slice
``[lo_r, hi_r)`` of it (`Communicator.shard`, ``np.array_split`` bounds, so an uneven last batch
works), runs forward and backward on it with the loss gradient scaled by ``1 / B`` instead of
``1 / (hi_r - lo_r)``, and the sum over ranks of those gradients is the gradient of the mean loss
over the GLOBAL batch::

    grad = sum_r sum_{n in shard r} dloss_n / B                  # what one process computes

One `Communicator.allreduce_grads` per step sums every parameter's gradient through ONE flat
buffer, cut into buckets (``bucket_bytes``, filled in reverse layer order, as backward produces
them) so a large model does not pay a call per parameter; the step's loss sum, correct count and
a non-finite flag ride in the last bucket. Each bucket is a non-blocking ``Iallreduce``; the
requests are polled with a deadline (``timeout`` seconds), and a rank that waits longer (another
rank died, hangs or never arrives) prints why and calls ``MPI_Abort``, which ends every rank of
the group instead of leaving them hung.

Importing this module does not import mpi4py; `Communicator.world` does, and only then.
"""

from __future__ import annotations

import contextlib
import sys
import time

import numpy as np

__all__ = ["Communicator", "DistributedError", "world_if_launched"]

DEFAULT_TIMEOUT = 300.0         # seconds a collective may wait for the other ranks
DEFAULT_BUCKET_BYTES = 4 << 20  # 4 MiB per Iallreduce
STATS = 3                       # loss sum, correct count, non-finite flag


class DistributedError(RuntimeError):
    """A collective did not finish in time, or the ranks disagree."""


def world_if_launched():
    """The MPI world as a `Communicator` when this process runs under ``mpiexec -n P`` with
    P > 1 and mpi4py is installed; None otherwise (a plain run never imports MPI).

    The test is the launcher's environment (MPICH's Hydra sets ``PMI_SIZE``, Open MPI
    ``OMPI_COMM_WORLD_SIZE``): without it, mpi4py is not imported at all, so a one-process run is
    exactly the one of juanji without the extra. ``JUANJI_MPI_TIMEOUT`` (seconds, default 300)
    bounds how long a collective waits for a rank that failed or hangs.
    """
    import os

    size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE")
    if size is None or int(size) <= 1:
        return None
    timeout = float(os.environ.get("JUANJI_MPI_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        return Communicator.world(timeout=timeout)
    except ImportError as e:
        raise DistributedError(f"launched under mpiexec with {size} ranks but mpi4py is missing; "
                               f"pip install 'juanji[mpi]'") from e


class Communicator:
    """The collectives juanji's data-parallel training needs, over an mpi4py communicator.

    Args:
        mpi_comm: an ``mpi4py.MPI.Comm`` (e.g. ``MPI.COMM_WORLD``).
        timeout: seconds any collective may wait before the group is aborted.
        bucket_bytes: size of one gradient allreduce bucket.
    """

    def __init__(self, mpi_comm, *, timeout: float = DEFAULT_TIMEOUT,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES):
        if not timeout > 0:
            raise ValueError(f"`timeout` must be a number of seconds > 0, got {timeout!r}")
        if not isinstance(bucket_bytes, int) or bucket_bytes < 64:
            raise ValueError(f"`bucket_bytes` must be an int >= 64, got {bucket_bytes!r}")
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = mpi_comm
        self.rank = mpi_comm.Get_rank()
        self.size = mpi_comm.Get_size()
        self.timeout = float(timeout)
        self.bucket_bytes = bucket_bytes
        self._buckets = None   # (dtype, [(params, flat buffer)]) built on first use

    @classmethod
    def world(cls, **kwargs) -> Communicator:
        from mpi4py import MPI

        return cls(MPI.COMM_WORLD, **kwargs)

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    # --- failure -----------------------------------------------------------------------------

    def abort(self, message: str, code: int = 1) -> None:
        """Print ``message`` (naming this rank) and end every rank of the group."""
        print(f"juanji: rank {self.rank}/{self.size}: {message}; aborting all ranks",
              file=sys.stderr, flush=True)
        time.sleep(0.5)  # mpiexec forwards stderr asynchronously; an abort at once can lose it
        self.comm.Abort(code)

    @contextlib.contextmanager
    def abort_on_error(self):
        """Any exception on this rank ends every rank at once (MPI_Abort) instead of leaving the
        others waiting in a collective until the timeout."""
        try:
            yield self
        except BaseException as e:  # noqa: BLE001 - re-raised on a one-rank group
            if self.size == 1 or isinstance(e, SystemExit) and not e.code:
                raise
            self.abort(f"{type(e).__name__}: {e}")

    def _wait(self, requests, what: str) -> None:
        """Poll ``requests`` until all are done, or abort the group after ``timeout`` seconds."""
        deadline = time.monotonic() + self.timeout
        pause = 1e-6
        while not self.MPI.Request.Testall(requests):
            if time.monotonic() > deadline:
                self.abort(f"{what} waited more than {self.timeout:g} s for the other ranks "
                           f"(one failed, hangs or diverged)")
            time.sleep(pause)
            pause = min(pause * 2, 1e-3)

    # --- collectives -------------------------------------------------------------------------

    def broadcast_arrays(self, arrays, what: str = "broadcast") -> None:
        """Overwrite each array in ``arrays`` (contiguous) with rank 0's, in place."""
        reqs = [self.comm.Ibcast(a, root=0) for a in arrays]
        self._wait(reqs, what)

    def broadcast_object(self, obj, what: str = "broadcast"):
        """Rank 0's ``obj`` (a small JSON-like value: an optimiser state, a normaliser's lists)
        on every rank; sent as pickle between the group's own processes, never read from a file."""
        import pickle

        data = pickle.dumps(obj) if self.is_root else b""
        n = np.array([len(data)], np.int64)
        self.broadcast_arrays([n], what)
        buf = np.frombuffer(data, np.uint8).copy() if self.is_root else np.empty(int(n[0]), np.uint8)
        self.broadcast_arrays([buf], what)
        return pickle.loads(buf.tobytes())  # noqa: S301 - bytes from rank 0 of this group

    def allreduce_sum(self, array: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """Sum of ``array`` over ranks (a new array)."""
        send = np.ascontiguousarray(array)
        out = np.empty_like(send)
        self._wait([self.comm.Iallreduce(send, out, op=self.MPI.SUM)], what)
        return out

    def shard(self, n: int) -> slice:
        """This rank's part ``[lo, hi)`` of ``n`` items: ``np.array_split`` bounds (the first
        ``n % P`` ranks take one more; a rank may get none)."""
        q, r = divmod(int(n), self.size)
        lo = self.rank * q + min(self.rank, r)
        return slice(lo, lo + q + (self.rank < r))

    def _plan(self, params):
        """Buckets of parameters in reverse layer order, each with a flat buffer; the last bucket
        has STATS extra slots at its end."""
        dtype = params[0].grad.dtype if params else np.dtype(np.float64)
        limit = max(1, self.bucket_bytes // dtype.itemsize)
        buckets, current, count = [], [], 0
        for p in reversed(params):
            if current and count + p.grad.size > limit:
                buckets.append(current)
                current, count = [], 0
            current.append(p)
            count += p.grad.size
        buckets.append(current)
        plan = []
        for i, group in enumerate(buckets):
            extra = STATS if i == len(buckets) - 1 else 0
            plan.append((group, np.empty(sum(p.grad.size for p in group) + extra, dtype)))
        return dtype, plan

    def allreduce_grads(self, params, loss_sum: float, correct: int, bad: bool):
        """Sum every ``p.grad`` over ranks in place; return the summed ``(loss_sum, correct,
        non-finite ranks)``. One ``Iallreduce`` per bucket, all in flight at once."""
        if self._buckets is None or self._buckets[2] != [id(p) for p in params]:
            self._buckets = (*self._plan(params), [id(p) for p in params])
        _, plan, _ = self._buckets
        reqs = []
        for i, (group, buf) in enumerate(plan):
            at = 0
            for p in group:
                buf[at:at + p.grad.size] = p.grad.reshape(-1)  # (size,) view of the grad
                at += p.grad.size
            if i == len(plan) - 1:
                buf[at:] = (loss_sum, correct, float(bad))
            reqs.append(self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self.MPI.SUM))
        self._wait(reqs, "the gradient allreduce")
        for group, buf in plan:
            at = 0
            for p in group:
                p.grad[...] = buf[at:at + p.grad.size].reshape(p.grad.shape)  # grad's shape
                at += p.grad.size
        stats = plan[-1][1][-STATS:]
        return float(stats[0]), int(round(float(stats[1]))), int(round(float(stats[2])))

    def broadcast_training_state(self, model, optimizer=None, normalizer=None):
        """Make every rank start from rank 0's weights and optimiser state; return rank 0's
        normaliser (None when none is given)."""
        self.broadcast_arrays([p.data for p in model.parameters()], "the weight broadcast")
        if optimizer is not None:
            state = self.broadcast_object(optimizer.state_dict() if self.is_root else None,
                                          "the optimiser broadcast")
            optimizer.load_state_dict(state)
        if normalizer is not None:
            normalizer = self.broadcast_object(normalizer if self.is_root else None,
                                               "the normaliser broadcast")
        return normalizer
