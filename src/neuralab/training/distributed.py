"""Data-parallel training on several processes: torch's DistributedDataParallel under ``torchrun``.

``torchrun`` (or ``neuralab train SPEC --nproc N``, which starts it) runs one process per
rank with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in its environment;
:func:`launched_group` joins them into one process group — gloo on CPUs, NCCL on GPUs.
An :class:`~neuralab.training.experiment.Experiment` given that group wraps its model in
:class:`DataParallel`, and the one training loop takes each process's rows of every batch
from :class:`~neuralab.training.rules.Shard`. ``train.batch_size`` stays the global batch:
each process's loss is weighted by its share of the batch, so DDP's averaged gradient is
the batch's mean gradient and the weights match training alone (to float rounding).

Each step, every process must agree on whether to stop (a NaN loss on one process's
rows, a signal that reached one process): a process that stopped alone would leave the
others waiting in the next gradient exchange. The agreement rides in that exchange: a
two-element parameter beside the model gets, as its gradient, the process's summed loss
and whether a signal is pending; DDP averages it with the weights' gradients, so after
``backward()`` every process reads the same batch loss and the same stop flag, without a
collective of its own.

Example:
    >>> launched_group("auto") is None  # not started by torchrun
    True
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from neuralab.errors import SpecError
from neuralab.training import rules
from neuralab.training.hardware import choose_device
from neuralab.training.running import CUDA_CHECK_EVERY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessGroup:
    """The data-parallel processes this one trains with (torch's default process group).

    Attributes:
        rank: this process's number, 0 … size − 1 (process 0 writes the run directory).
        size: how many processes train together.
        local_rank: its number on this machine (which GPU it uses).
        device: where it trains (``cuda:<local_rank>`` on GPUs, else the CPU).
    """

    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def writes(self) -> bool:
        """True on the process that writes the run directory, checkpoints and plots (rank 0)."""
        return self.rank == 0

    @property
    def shard(self) -> rules.Shard:
        return rules.Shard(rank=self.rank, size=self.size)


def launch_environment() -> tuple[int, int, int] | None:
    """(rank, size, local rank) from torchrun's environment, or None when this process was not
    started by a launcher of several processes."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1 or "RANK" not in os.environ:
        return None
    return int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0") or 0)


def launched_group(device: str = "auto") -> ProcessGroup | None:
    """Join the processes torchrun started (once per process); None when it started only this one.

    Args:
        device: ``train.device`` — ``auto`` trains on GPUs when CUDA is present (NCCL), else
            on CPUs (gloo); each process takes the GPU of its local rank.
    """
    found = launch_environment()
    if found is None:
        return None
    rank, size, local_rank = found
    where = choose_device(device)
    problems = process_problems(device, int(os.environ.get("LOCAL_WORLD_SIZE", size)))
    if problems:
        raise SpecError(problems)
    if where.type == "cuda":
        where = torch.device("cuda", local_rank)
        torch.cuda.set_device(where)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if where.type == "cuda" else "gloo")
        log.info("process %d of %d joined the group (%s)", rank, size, dist.get_backend())
    return ProcessGroup(rank=rank, size=size, local_rank=local_rank, device=where)


def process_problems(device: str, processes_here: int) -> list[str]:
    """Why ``processes_here`` processes on this machine cannot train on ``device`` ([] when they can):
    on GPUs each process needs a card of its own (NCCL refuses two processes on one card)."""
    if choose_device(device).type == "cuda" and processes_here > torch.cuda.device_count():
        return [f"--nproc: {processes_here} processes on this machine but {torch.cuda.device_count()} GPU(s); "
                f"use --nproc {torch.cuda.device_count()} (one process per GPU) or set train.device: cpu"]
    return []


def refusals(spec, group: ProcessGroup) -> list[str]:
    """Why ``spec`` cannot train data-parallel on ``group`` with the same results as one process ([] when it can)."""
    problems = []
    if spec.train.accumulate > 1:
        problems.append(f"train.accumulate: {spec.train.accumulate} on {group.size} processes; the processes "
                        "already share each batch: raise train.batch_size instead and keep accumulate 1")
    if spec.model.batch_norm and group.device.type != "cuda":
        problems.append(f"model.batch_norm: on {group.size} CPU processes each would normalise its own rows, "
                        "not the batch (torch's SyncBatchNorm needs GPUs); train batch norm on one process or on GPUs")
    return problems


def prepare_model(model: nn.Module, group: ProcessGroup) -> nn.Module:
    """The model as data-parallel training needs it: batch norm over the whole batch on GPUs (SyncBatchNorm)."""
    if group.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return model


class _Replica(nn.Module):
    """The model plus the two-element agreement parameter (see the module docstring)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.agreement = nn.Parameter(torch.zeros(2, device=next(model.parameters()).device))
        self.sent: Tensor | None = None  # what this process puts into the exchange this step
        self.agreement.register_hook(lambda gradient: self.sent)

    def forward(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        return self.model(inputs), self.agreement.sum() * 0.0  # the zero term gives the parameter a gradient


class DataParallel:
    """One process's replica of a model trained by DistributedDataParallel.

    Args:
        model: the network (already on ``group.device``); the optimiser keeps its parameters.
        group: the processes training together.
    """

    def __init__(self, model: nn.Module, group: ProcessGroup):
        self.group, self.shard = group, group.shard
        self.replica = _Replica(model)
        cuda = group.device.type == "cuda"
        # buffers need no broadcast: batch norm is SyncBatchNorm on GPUs and refused on CPUs
        self.module = DistributedDataParallel(self.replica, device_ids=[group.device.index] if cuda else None,
                                              forward_sync_buffers=False)
        self.on_cpu = not cuda
        self.pending_signal = ""  # a signal this process received, not yet agreed on

    def objective(self, inputs: Tensor, targets: Tensor, head, *, batch_rows: int) -> tuple[Tensor, Tensor, Tensor]:
        """Forward this process's rows; returns (scores, its mean data loss, the loss to differentiate).

        The loss to differentiate is the data loss weighted by this process's share of the
        batch (:meth:`Shard.weight`) plus the agreement term.
        """
        scores, term = self.module(inputs)  # (rows, …, n_outputs), 0-dim zero
        rows = len(targets)
        if rows == 0:  # a last batch shorter than the processes: this one still takes part in the exchange
            data_loss = scores.sum() * 0.0
        else:
            data_loss = head.compute_loss(scores, targets)
        stop = 1.0 if self.pending_signal else 0.0
        # DDP averages the gradients: each process sends size × its share, the average is the sum
        self.replica.sent = torch.stack([data_loss.detach() * (rows * self.group.size / batch_rows),
                                         data_loss.new_tensor(stop * self.group.size)])
        return scores, data_loss, data_loss * self.shard.weight(rows, batch_rows) + term

    def agree(self, state) -> Tensor:
        """After ``backward()``: the whole batch's mean loss (the same on every process); when any
        process has a pending signal, every process stops at this step.

        On a GPU the stop flag is read (a device synchronisation) every ``CUDA_CHECK_EVERY`` steps.
        """
        agreed = self.replica.agreement.grad  # (2,): batch loss, processes with a pending signal
        self.replica.agreement.grad = None
        if self.on_cpu or state.step % CUDA_CHECK_EVERY == 0:
            if float(agreed[1]) > 0.5 and not state.interrupted:
                state.interrupted = self.pending_signal or "SIGTERM"
                state.stop(f"interrupted by {state.interrupted}" + ("" if self.pending_signal else
                                                                    " (received by another process)"))
        return agreed[0]

    def carried(self, totals: tuple[Tensor, ...] | None) -> tuple[Tensor, ...] | None:
        """An interrupted epoch's running totals to continue from: the batch losses (and clipped
        steps) are the same on every process; the error count is a sum over processes, so
        process 0 alone carries it."""
        if totals is None or self.group.rank == 0:
            return totals
        return totals[0], torch.zeros_like(totals[1]), *totals[2:]

    def total(self, count: Tensor) -> Tensor:
        """The sum over every process of ``count`` (an epoch's misclassified rows)."""
        summed = count.clone()
        dist.all_reduce(summed)
        return summed


def separate_dropout(seed: int, group: ProcessGroup | None, *, step: int) -> None:
    """Seed torch's global generator (dropout masks) for this process from ``step`` on (ranks > 0)."""
    if group is not None and group.rank > 0:
        torch.manual_seed(rules.process_dropout_seed(seed, rank=group.rank, step=step))


def is_peer_failure(error: BaseException) -> bool:
    """True when ``error`` says another process of the group died or stopped answering."""
    text = str(error).lower()
    return isinstance(error, dist.DistError) or "gloo" in text or "nccl" in text or "connection closed" in text


def peer_lost_message(error: BaseException, group: ProcessGroup, *, run_dir) -> list[str]:
    """The lines that say a peer process failed, where the last checkpoint is and how to resume."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    first = first.split(". This is typically")[0][:200]  # gloo's hint about remote workers: said below
    lines = [f"process {group.rank} of {group.size}: another training process died or stopped answering ({first}); "
             "this one stopped too"]
    if run_dir is not None:
        lines.append(f"the run keeps its last checkpoint; resume with: neuralab train --resume {run_dir} "
                     f"--nproc {group.size}")
    return lines

