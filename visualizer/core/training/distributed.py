"""Running under ``torchrun``: torch.distributed does the work, we only read its
environment. torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous address);
we join the process group (gloo on CPU, NCCL on CUDA), and every process takes its shard
of each epoch from ``DistributedSampler``. Without torchrun the same code runs as a world of
one, so one process and many share every line that decides the weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from visualizer.core.errors import ParameterError


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None       # None: a single process, no process group

    @property
    def is_main(self) -> bool:
        """Only this process writes files and prints results."""
        return self.rank == 0

    def sum(self, values: list[float]) -> list[float]:
        """Elementwise sum over all processes (counts and loss sums for epoch records)."""
        if self.backend is None:
            return list(values)
        device = torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")
        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return t.tolist()

    def barrier(self) -> None:
        if self.backend is not None:
            dist.barrier()

    def close(self) -> None:
        if self.backend is not None and dist.is_initialized():
            dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")) and int(os.environ["WORLD_SIZE"]) > 1


def join_world(device: torch.device) -> tuple[World, torch.device]:
    """The process group torchrun asked for (or a world of one), and this process's device:
    with CUDA, GPU number LOCAL_RANK of this machine."""
    if not launched_by_torchrun():
        return World(), device
    rank, size, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise ParameterError(f"torchrun started process {local} on this machine, which has only "
                                 f"{torch.cuda.device_count()} GPU(s); use --nproc_per_node {torch.cuda.device_count()}.")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise ParameterError(f"torchrun runs on CPUs (gloo) or CUDA GPUs (NCCL), not on {device.type}.")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return World(rank, size, local, backend), device
