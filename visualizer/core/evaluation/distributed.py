"""Several processes under ``torchrun`` (torch.distributed: gloo on CPU, NCCL on GPUs;
multi-node through torchrun's own options). No scheduling of our own: batches are dealt
out in turn (batch k of the remaining ones to rank k mod world size), each process works
through its own, and after every round rank 0 gathers the finished batches and writes them.

A single process uses the same calls with nothing to talk to, so one code path serves both.
"""

from __future__ import annotations

import os

import torch


class SingleProcess:
    rank = 0
    world_size = 1
    local_rank = 0

    def broadcast(self, obj):
        return obj

    def gather(self, obj) -> list | None:
        return [obj]

    def any(self, flag: bool) -> bool:
        return bool(flag)

    def close(self) -> None:
        pass


class TorchDistributed:
    """The default process group torchrun describes in the environment (RANK, WORLD_SIZE,
    LOCAL_RANK, MASTER_ADDR, MASTER_PORT)."""

    def __init__(self, backend: str | None = None):
        import torch.distributed as dist

        self.dist = dist
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        self.backend = backend
        if backend == "nccl":
            torch.cuda.set_device(self.local_rank)
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    def broadcast(self, obj):
        box = [obj]
        self.dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list | None:
        out = [None] * self.world_size if self.rank == 0 else None
        self.dist.gather_object(obj, out, dst=0)
        return out

    def any(self, flag: bool) -> bool:
        device = torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")
        value = torch.tensor([1 if flag else 0], device=device)
        self.dist.all_reduce(value, op=self.dist.ReduceOp.MAX)
        return bool(value.item())

    def close(self) -> None:
        if self.dist.is_initialized():
            self.dist.destroy_process_group()


def under_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment():
    """TorchDistributed under torchrun with more than one process, else SingleProcess."""
    return TorchDistributed() if under_torchrun() else SingleProcess()


def rank_device(requested: str | None) -> str | None:
    """Under torchrun each process takes its own GPU (LOCAL_RANK) when the device is automatic."""
    if under_torchrun() and requested in (None, "", "auto") and torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return requested
