"""The per-step rules every engine calls: batches, streams, noise, regularisation, rows, divergence."""
from __future__ import annotations

import math

import pytest
import torch

from neuralab.spec import TrainSpec
from neuralab.spec.catalog import family, names
from neuralab.training import rules


def test_batch_bounds_cover_every_row_once():
    for n_rows, size in ((10, 4), (64, 64), (65, 64), (7, 1)):
        bounds = rules.batch_bounds(n_rows, size, batch_norm=False)
        covered = [row for start, stop in bounds for row in range(start, stop)]
        assert covered == list(range(n_rows))


def test_a_one_row_last_batch_joins_the_previous_one_only_under_batch_norm():
    assert rules.batch_bounds(9, 4, batch_norm=False)[-1] == (8, 9)
    assert rules.batch_bounds(9, 4, batch_norm=True) == [(0, 4), (4, 9)]
    assert rules.batch_bounds(1, 4, batch_norm=True) == [(0, 1)]  # nothing to join: one batch of one row


def test_batch_size_full_means_every_row():
    assert rules.batch_size_of(TrainSpec(batch_size="full"), 123) == 123
    assert rules.batch_size_of(TrainSpec(batch_size=500), 123) == 123


def test_the_batches_stream_is_seeded_and_separate_from_the_weights():
    a, b = rules.batches_generator(5), rules.batches_generator(5)
    assert torch.equal(rules.epoch_order(20, a), rules.epoch_order(20, b))
    assert rules.stream_seed(5, "batches") != rules.stream_seed(5, "weights")


def test_noise_is_drawn_from_the_stream_and_zero_noise_is_the_inputs_themselves():
    inputs = torch.zeros(3, 2)
    assert rules.augment(inputs, 0.0, rules.batches_generator(0)) is inputs
    noisy = rules.augment(inputs, 0.5, rules.batches_generator(0))
    assert torch.equal(noisy, rules.augment(inputs, 0.5, rules.batches_generator(0)))
    assert 0 < float(noisy.std()) < 2


@pytest.mark.parametrize("optimizer", names("optimizers"))
def test_l2_enters_as_the_penalty_gradient_or_as_decoupled_decay(optimizer):
    decay = rules.weight_decay(TrainSpec(optimizer=optimizer, l2=0.05))
    decoupled = optimizer in family("optimizers", "decay", "decoupled")
    assert decay.decoupled == decoupled
    assert decay.rate == pytest.approx(0.05 if decoupled else 0.1)  # d/dw (l2·w²) = 2·l2·w


def test_l1_penalty_and_member_clipping_follow_torch():
    weights = [torch.tensor([1.0, -2.0]), torch.tensor([[3.0]])]
    assert rules.l1_penalty(weights, 0.0) == 0.0
    assert float(rules.l1_penalty(weights, 0.1)) == pytest.approx(0.6)
    single = [torch.tensor([3.0, 4.0], requires_grad=True)]
    single[0].grad = torch.tensor([3.0, 4.0])
    rules.clip_gradients(single, 1.0)
    stacked = torch.tensor([[3.0, 4.0], [0.3, 0.4]], requires_grad=True)  # two models: norms 5 and 0.5
    stacked.grad = stacked.detach().clone()
    rules.clip_member_gradients([stacked], 1.0, size=2)
    assert torch.allclose(stacked.grad[0], single[0].grad) and torch.allclose(stacked.grad[1], torch.tensor([0.3, 0.4]))


def test_dev_is_scored_every_n_epochs_and_at_the_last():
    train = TrainSpec(epochs=7, eval_every=3)
    assert [rules.dev_scored_in(epoch, train) for epoch in range(7)] == [False, False, True, False, False, True, True]


def test_the_metrics_row_and_running_scores():
    row = rules.epoch_row(2, train=rules.running_scores(6.0, 3.0, 12, classifier=True),
                          dev={"loss": 0.4, "error": 0.1}, learning_rate=0.01, seconds=0.5)
    assert row == {"epoch": 3, "train_loss": 0.5, "train_error": 0.25, "dev_loss": 0.4, "dev_error": 0.1,
                   "learning_rate": 0.01, "seconds": 0.5}
    assert rules.running_scores(6.0, 0.0, 12, classifier=False) == {"loss": 0.5, "error": 0.5}


def test_divergence_is_named_with_where_and_at_which_rate():
    assert rules.non_finite([1.0, math.inf, math.nan]) == math.inf and rules.non_finite([1.0]) is None
    assert not rules.weights_finite([torch.tensor([1.0, math.nan])])
    layers = [torch.ones(3, 2, requires_grad=True), torch.zeros(3), torch.ones(1, 3)]
    assert rules.weights_finite(layers) and rules.weights_finite([])
    for bad in (math.inf, -math.inf, math.nan):  # anywhere in any of the tensors
        with torch.no_grad():
            layers[1][2] = bad
        assert not rules.weights_finite(layers)
    reason = rules.divergence_reason(math.nan, epoch=2, step=40, learning_rate=0.5, what="dev loss")
    assert reason == "diverged: the dev loss became NaN in epoch 3 (step 40, learning rate 0.5)"


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_the_processes_rows_of_a_batch_are_the_batch(size):
    order = torch.randperm(50, generator=torch.Generator().manual_seed(0))
    for start, stop in rules.batch_bounds(50, 7, batch_norm=False):  # 7 rows: shares of 4 + 3, 3 + 2 + 2, …
        shares = [rules.Shard(rank=rank, size=size).rows(order, start, stop) for rank in range(size)]
        assert sorted(torch.cat(shares).tolist()) == sorted(order[start:stop].tolist())
        assert sum(rules.Shard(rank=rank, size=size).weight(len(share), stop - start)
                   for rank, share in enumerate(shares)) == pytest.approx(size)  # DDP divides by size: weight 1 in all
    assert torch.equal(rules.ONE_PROCESS.rows(order, 3, 10), order[3:10])  # one process: the plain batch


def test_each_process_adds_its_rows_share_of_the_noise_one_process_would_draw():
    inputs = torch.arange(14.0).reshape(7, 2)
    alone = rules.augment(inputs, 0.1, rules.batches_generator(4))
    for rank in range(3):
        shard = rules.Shard(rank=rank, size=3)
        mine = rules.augment(inputs[rank::3], 0.1, rules.batches_generator(4), shard=shard, batch_rows=7)
        assert torch.equal(mine, alone[rank::3])


def test_other_processes_draw_dropout_from_streams_of_their_own():
    seeds = {rules.process_dropout_seed(0, rank=rank, step=step) for rank in (1, 2, 3) for step in (0, 100)}
    assert len(seeds) == 6
