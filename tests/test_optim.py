"""juanji.optim: update rules by hand, against torch.optim step by step, and exact checkpointing."""

import io
import json
import math

import numpy as np
import pytest
import torch

from juanji.nn.parameter import Parameter
from juanji.optim import (
    OPTIMIZERS, SGD, Adam, AdamW, CosineLR, Optimizer, RMSProp, StepLR, clip_grad_norm,
    make_optimizer,
)
from tests.helpers import assert_close

TORCH_CLASS = {SGD: torch.optim.SGD, RMSProp: torch.optim.RMSprop, Adam: torch.optim.Adam,
               AdamW: torch.optim.AdamW}

# (class, kwargs): the kwargs have the same names in torch, so one dict configures both.
CONFIGS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, weight_decay=0.05)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.8, weight_decay=0.05)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    (RMSProp, dict(lr=0.01)),
    (RMSProp, dict(lr=0.01, momentum=0.9)),
    (RMSProp, dict(lr=0.01, weight_decay=0.1)),
    (RMSProp, dict(lr=0.02, alpha=0.9, eps=1e-6, momentum=0.5, weight_decay=0.1)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, weight_decay=0.1)),
    (Adam, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-6)),
    (AdamW, dict(lr=0.01)),
    (AdamW, dict(lr=0.01, weight_decay=0.0)),
    (AdamW, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
]
CONFIG_IDS = [f"{cls.__name__}-{kw}" for cls, kw in CONFIGS]
SHAPES = [(3, 4), (5,)]


def problem(steps, seed=0):
    """Initial values and a sequence of random gradients for two small parameters."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return init, grads


def make_params(init, dtype):
    return [Parameter(x.astype(dtype), f"p{i}") for i, x in enumerate(init)]


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad[...] = g


def through_checkpoint(sd):
    """Scalars through JSON and arrays through an .npz read without pickle, as a checkpoint."""
    scalars = json.loads(json.dumps(sd["scalars"]))
    buf = io.BytesIO()
    np.savez(buf, **sd["arrays"])
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    return {"scalars": scalars, "arrays": arrays}


# ---------------------------------------------------------------------------------------------
# One or two steps worked out by hand
# ---------------------------------------------------------------------------------------------

P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.3, -0.1, 2.0])
G2 = np.array([-0.5, 0.4, 0.0])


def two_steps(opt_cls, **kw):
    p = Parameter(P0.copy(), "w")
    opt = opt_cls([p], **kw)
    out = []
    for g in (G1, G2):
        p.grad[...] = g
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_sgd_by_hand(wd):
    lr = 0.1
    p1, p2 = two_steps(SGD, lr=lr, weight_decay=wd)
    e1 = P0 - lr * (G1 + wd * P0)
    assert_close(p1, e1)
    assert_close(p2, e1 - lr * (G2 + wd * e1))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_by_hand(nesterov):
    lr, mu = 0.1, 0.9
    p1, p2 = two_steps(SGD, lr=lr, momentum=mu, nesterov=nesterov)
    b1 = G1                       # torch: the buffer starts at the first gradient
    b2 = mu * b1 + G2
    d1 = G1 + mu * b1 if nesterov else b1
    d2 = G2 + mu * b2 if nesterov else b2
    assert_close(p1, P0 - lr * d1)
    assert_close(p2, P0 - lr * d1 - lr * d2)


@pytest.mark.parametrize("mu,wd", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.1), (0.5, 0.1)])
def test_rmsprop_by_hand(mu, wd):
    lr, alpha, eps = 0.01, 0.9, 1e-8
    p1, p2 = two_steps(RMSProp, lr=lr, alpha=alpha, eps=eps, momentum=mu, weight_decay=wd)
    g1 = G1 + wd * P0
    s1 = (1 - alpha) * g1 ** 2                       # s starts at zero
    d1 = g1 / (np.sqrt(s1) + eps)
    e1 = P0 - lr * d1                                 # buf1 = mu*0 + d1 = d1
    g2 = G2 + wd * e1
    s2 = alpha * s1 + (1 - alpha) * g2 ** 2
    d2 = g2 / (np.sqrt(s2) + eps)
    buf2 = mu * d1 + d2
    assert_close(p1, e1)
    assert_close(p2, e1 - lr * buf2)


@pytest.mark.parametrize("cls,wd", [(Adam, 0.0), (Adam, 0.1), (AdamW, 0.0), (AdamW, 0.1)])
def test_adam_and_adamw_by_hand(cls, wd):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    p1, p2 = two_steps(cls, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    decoupled = cls is AdamW
    m = v = 0.0
    p = P0.copy()
    for t, g in ((1, G1), (2, G2)):
        if decoupled:
            p = p * (1 - lr * wd)                         # the weights shrink directly
        else:
            g = g + wd * p                                # L2 joins the gradient
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        assert_close(p1 if t == 1 else p2, p, what=f"step {t}")
    # First step of Adam: m_hat = g, v_hat = g^2, so each entry moves by ~lr against sign(g).
    if wd == 0:
        assert_close(p1, P0 - lr * np.sign(G1) * np.abs(G1) / (np.abs(G1) + eps))


# ---------------------------------------------------------------------------------------------
# Against torch.optim, step by step
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_over_steps(cls, kw, dtype):
    init, grads = problem(steps=5)
    ours = make_params(init, dtype)
    theirs = [torch.tensor(x.astype(dtype), requires_grad=True) for x in init]
    opt = cls(ours, **kw)
    topt = TORCH_CLASS[cls](theirs, foreach=False, **kw)
    for t, gs in enumerate(grads, start=1):
        set_grads(ours, gs)
        for tp, g in zip(theirs, gs):
            tp.grad = torch.tensor(g.astype(dtype))
        opt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            assert p.data.dtype == dtype
            assert_close(p.data, tp.detach().numpy(), dtype, what=f"step {t}, param {i}")
        # The buffers carry torch's names, so they can be compared one by one too.
        for key, arr in opt.state_dict()["arrays"].items():
            i, name = key.split(".")
            assert_close(arr, topt.state[theirs[int(i)]][name].numpy(), dtype,
                         what=f"step {t}, {key}")


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_updates_in_place_and_keeps_dtype(cls, kw):
    init, grads = problem(steps=2)
    params = make_params(init, np.float32)
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    opt = cls(params, **kw)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g  # a float64 gradient on float32 data must not promote the data
        opt.step()
    for p, a, b in zip(params, arrays, before):
        assert p.data is a and a.dtype == np.float32
        assert not np.array_equal(a, b)
    assert all(arr.dtype == np.float32 for arr in opt.state_dict()["arrays"].values())


def test_gradients_are_not_modified_by_step():
    init, grads = problem(steps=1)
    params = make_params(init, np.float64)
    set_grads(params, grads[0])
    opt = SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)
    opt.step()
    opt.step()  # the second step would see a changed gradient if the buffer aliased it
    for p, g in zip(params, grads[0]):
        np.testing.assert_array_equal(p.grad, g)


def test_zero_grad_and_settable_lr():
    init, grads = problem(steps=1)
    params = make_params(init, np.float64)
    set_grads(params, grads[0])
    opt = SGD(params, lr=0.1)
    opt.lr = 0.0
    opt.step()
    for p, x in zip(params, init):
        np.testing.assert_array_equal(p.data, x)
    opt.lr = 0.5
    opt.step()
    assert_close(params[0].data, init[0] - 0.5 * grads[0][0])
    opt.zero_grad()
    assert all(not p.grad.any() for p in params)


def test_step_refuses_a_gradient_of_the_wrong_shape():
    p = Parameter(np.zeros((2, 3)), "weight")
    p.grad = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"`weight.grad` must be an array of its data's shape "
                                         r"\(2, 3\), got \(3, 2\)"):
        SGD([p], lr=0.1).step()


# ---------------------------------------------------------------------------------------------
# make_optimizer
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls,attrs", [
    ("sgd", SGD, dict(momentum=0.0, nesterov=False)),
    ("momentum", SGD, dict(momentum=0.9, nesterov=False)),
    ("nesterov", SGD, dict(momentum=0.9, nesterov=True)),
    ("rmsprop", RMSProp, dict(alpha=0.99, eps=1e-8)),
    ("adam", Adam, dict(betas=(0.9, 0.999), weight_decay=0.0)),
    ("AdamW", AdamW, dict(betas=(0.9, 0.999), weight_decay=1e-2)),
])
def test_make_optimizer(name, cls, attrs):
    opt = make_optimizer(name, [Parameter(np.zeros(2), "w")], lr=0.3)
    assert type(opt) is cls and opt.lr == 0.3
    for k, v in attrs.items():
        assert getattr(opt, k) == v, k


def test_make_optimizer_passes_keywords():
    opt = make_optimizer("momentum", [Parameter(np.zeros(2), "w")], 0.1, momentum=0.5,
                         weight_decay=0.01)
    assert (opt.momentum, opt.weight_decay) == (0.5, 0.01)
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}


def test_make_optimizer_unknown_name_lists_the_allowed():
    with pytest.raises(ValueError, match=r"`name` must be one of sgd, momentum, nesterov, "
                                         r"rmsprop, adam, adamw; got 'adagrad'"):
        make_optimizer("adagrad", [Parameter(np.zeros(2), "w")], 0.1)


# ---------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kw", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_continues_bit_for_bit(cls, kw, dtype):
    init, grads = problem(steps=6, seed=1)
    schedule = (lambda o: StepLR(o, 2, 0.5)) if cls in (SGD, Adam) else (lambda o: CosineLR(o, 4))

    full = make_params(init, dtype)
    opt = cls(full, **kw)
    sched = schedule(opt)
    for gs in grads:
        set_grads(full, gs)
        opt.step()
        sched.step()

    first = make_params(init, dtype)
    opt1 = cls(first, **kw)
    sched1 = schedule(opt1)
    for gs in grads[:3]:
        set_grads(first, gs)
        opt1.step()
        sched1.step()
    saved_opt = through_checkpoint(opt1.state_dict())
    saved_sched = through_checkpoint(sched1.state_dict())

    # A fresh run, built with a different lr, resumes from the checkpoint.
    second = make_params([p.data.copy() for p in first], dtype)
    opt2 = cls(second, **{**kw, "lr": 123.0})
    sched2 = schedule(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    for gs in grads[3:]:
        set_grads(second, gs)
        opt2.step()
        sched2.step()

    assert opt2.lr == opt.lr and opt2.step_count == opt.step_count == 6
    for a, b in zip(full, second):
        assert a.data.dtype == b.data.dtype == dtype
        np.testing.assert_array_equal(a.data, b.data)
    end, end2 = opt.state_dict(), opt2.state_dict()
    assert end["scalars"] == end2["scalars"]
    assert end["arrays"].keys() == end2["arrays"].keys()
    for key in end["arrays"]:
        np.testing.assert_array_equal(end["arrays"][key], end2["arrays"][key])


def test_state_dict_before_any_step_has_no_arrays_and_round_trips():
    opt = Adam([Parameter(np.zeros(3), "w")], lr=0.1, betas=(0.8, 0.9))
    sd = opt.state_dict()
    assert sd == {"scalars": {"type": "Adam", "num_params": 1, "step": 0, "lr": 0.1,
                              "betas": [0.8, 0.9], "eps": 1e-8, "weight_decay": 0.0},
                  "arrays": {}}
    other = Adam([Parameter(np.zeros(3), "w")])
    other.load_state_dict(through_checkpoint(sd))
    assert other.state_dict() == sd and other.betas == (0.8, 0.9)


def test_state_dict_arrays_are_copies():
    p = Parameter(np.zeros(3), "w")
    p.grad[...] = 1.0
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    sd["arrays"]["0.momentum_buffer"][...] = 99.0
    np.testing.assert_array_equal(opt.state_dict()["arrays"]["0.momentum_buffer"], 1.0)
    fresh = SGD([Parameter(np.zeros(3), "w")], lr=0.1, momentum=0.9)
    fresh.load_state_dict(sd)
    sd["arrays"]["0.momentum_buffer"][...] = -1.0
    np.testing.assert_array_equal(fresh.state_dict()["arrays"]["0.momentum_buffer"], 99.0)


def _adam_after_one_step():
    params = [Parameter(np.zeros((3, 4)), "w"), Parameter(np.zeros(5), "b")]
    for p in params:
        p.grad[...] = 1.0
    opt = Adam(params, lr=0.01)
    opt.step()
    return opt


def _edit(sd, scalars=None, arrays=None, drop=()):
    out = {"scalars": {**sd["scalars"], **(scalars or {})},
           "arrays": {**sd["arrays"], **(arrays or {})}}
    for key in drop:
        out["scalars"].pop(key, None)
        out["arrays"].pop(key, None)
    return out


BAD_LOADS = [
    (lambda sd: [1, 2], TypeError, r"`state_dict` must be a dict with keys 'scalars' and 'arrays'"),
    (lambda sd: {"scalars": {}}, TypeError, r"got \['scalars'\]"),
    (lambda sd: _edit(sd, {"type": "SGD"}), ValueError,
     r"`state_dict` was saved by 'SGD', cannot load it into Adam"),
    (lambda sd: _edit(sd, {"num_params": 3}), ValueError,
     r"`state_dict` holds 3 parameters, this optimiser has 2"),
    (lambda sd: _edit(sd, {"step": -1}), ValueError,
     r"`state_dict\['scalars'\]\['step'\]` must be an int >= 0, got -1"),
    (lambda sd: _edit(sd, {"lr": -0.5}), ValueError, r"`lr` must be >= 0, got -0.5"),
    (lambda sd: _edit(sd, {"betas": [1.0, 0.9]}), ValueError,
     r"`betas` must both be in \[0, 1\), got \(1.0, 0.9\)"),
    (lambda sd: _edit(sd, {"foo": 1}), ValueError,
     r"`state_dict\['scalars'\]` keys do not match: missing \[\], unexpected \['foo'\]"),
    (lambda sd: _edit(sd, drop=["eps"]), ValueError,
     r"`state_dict\['scalars'\]` keys do not match: missing \['eps'\], unexpected \[\]"),
    (lambda sd: _edit(sd, drop=["1.exp_avg"]), ValueError,
     r"`state_dict\['arrays'\]` keys do not match: missing \['1.exp_avg'\], unexpected \[\]"),
    (lambda sd: _edit(sd, {"step": 0}), ValueError,
     r"`state_dict\['arrays'\]` keys do not match: missing \[\], unexpected \['0.exp_avg'"),
    (lambda sd: _edit(sd, arrays={"0.exp_avg": np.zeros((4, 3))}), ValueError,
     r"`state_dict\['arrays'\]\['0.exp_avg'\]` must be an array of shape \(3, 4\) and dtype "
     r"float64, got \(4, 3\) float64"),
    (lambda sd: _edit(sd, arrays={"1.exp_avg_sq": np.zeros(5, np.float32)}), ValueError,
     r"\['1.exp_avg_sq'\]` must be an array of shape \(5,\) and dtype float64, got \(5,\) float32"),
    (lambda sd: _edit(sd, arrays={"1.exp_avg_sq": [0.0] * 5}), ValueError, r"got list"),
]


@pytest.mark.parametrize("corrupt,exc,match", BAD_LOADS)
def test_load_state_dict_refuses_and_changes_nothing(corrupt, exc, match):
    opt = _adam_after_one_step()
    good = opt.state_dict()
    target = _adam_after_one_step()
    target.lr = 0.5
    before = target.state_dict()
    with pytest.raises(exc, match=match):
        target.load_state_dict(corrupt(good))
    after = target.state_dict()
    assert after["scalars"] == before["scalars"]
    for key, arr in before["arrays"].items():
        np.testing.assert_array_equal(after["arrays"][key], arr)


# ---------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------

def torch_lrs(make_torch_sched, base_lr, epochs):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_torch_sched(opt)
    out = []
    for _ in range(epochs):
        opt.step()  # torch warns when the schedule steps before the optimiser
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def our_lrs(make_sched, base_lr, epochs):
    opt = SGD([Parameter(np.zeros(1), "w")], lr=base_lr)
    sched = make_sched(opt)
    assert sched.lr_at(0) == base_lr and sched.last_epoch == 0
    out = []
    for _ in range(epochs):
        sched.step()
        out.append(opt.lr)
    return out


@pytest.mark.parametrize("step_size,gamma", [(1, 0.1), (3, 0.5), (4, 0.9)])
def test_step_lr_matches_torch(step_size, gamma):
    ours = our_lrs(lambda o: StepLR(o, step_size, gamma), 0.1, 10)
    theirs = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), 0.1, 10)
    assert_close(ours, theirs)
    expected = [0.1 * gamma ** (e // step_size) for e in range(1, 11)]
    assert_close(ours, expected)


@pytest.mark.parametrize("t_max,eta_min", [(4, 0.0), (10, 0.01), (3, 0.05)])
def test_cosine_lr_matches_torch(t_max, eta_min):
    ours = our_lrs(lambda o: CosineLR(o, t_max, eta_min), 0.1, 10)
    theirs = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min), 0.1, 10)
    assert_close(ours, theirs)
    assert math.isclose(ours[t_max - 1], eta_min, abs_tol=1e-15)  # the bottom at epoch t_max


@pytest.mark.parametrize("make,sd_from", [
    (lambda o: StepLR(o, 2, 0.5), lambda o: CosineLR(o, 4)),
    (lambda o: CosineLR(o, 4), lambda o: StepLR(o, 2, 0.5)),
])
def test_schedule_load_refuses_another_kind(make, sd_from):
    opt = SGD([Parameter(np.zeros(1), "w")], lr=0.1)
    sched, other = make(opt), sd_from(opt)
    with pytest.raises(ValueError, match=rf"saved by '{type(other).__name__}', cannot load it "
                                         rf"into {type(sched).__name__}"):
        sched.load_state_dict(other.state_dict())


def test_schedule_load_refuses_a_bad_epoch():
    sched = StepLR(SGD([Parameter(np.zeros(1), "w")], lr=0.1), 2)
    sd = sched.state_dict()
    sd["scalars"]["last_epoch"] = 1.5
    with pytest.raises(ValueError, match=r"`state_dict\['scalars'\]\['last_epoch'\]` must be an "
                                         r"int >= 0, got 1.5"):
        sched.load_state_dict(sd)


# ---------------------------------------------------------------------------------------------
# clip_grad_norm
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm, dtype):
    init, grads = problem(steps=1, seed=2)
    ours = make_params(init, dtype)
    set_grads(ours, grads[0])
    theirs = [torch.tensor(x.astype(dtype), requires_grad=True) for x in init]
    for tp, g in zip(theirs, grads[0]):
        tp.grad = torch.tensor(g.astype(dtype))
    total = clip_grad_norm(ours, max_norm)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert isinstance(total, float)
    assert_close(total, ttotal.item(), dtype)
    for p, tp in zip(ours, theirs):
        assert p.grad.dtype == dtype
        assert_close(p.grad, tp.grad.numpy(), dtype)
    # The global norm over every gradient, written out.
    assert_close(total, np.sqrt(sum(np.sum(g.astype(dtype) ** 2) for g in grads[0])), dtype)


def test_clip_grad_norm_by_hand_and_edge_cases():
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(1), "b")
    a.grad[...], b.grad[...] = [3.0, 0.0], 4.0                 # norm 5
    assert clip_grad_norm([a, b], 10.0) == 5.0                 # below: untouched
    np.testing.assert_array_equal(a.grad, [3.0, 0.0])
    assert clip_grad_norm(a, 1.5) == 3.0                       # one Parameter alone
    assert_close(a.grad, [3.0 * 1.5 / (3.0 + 1e-6), 0.0])
    assert clip_grad_norm([], 1.0) == 0.0


def test_clip_grad_norm_non_finite_like_torch():
    p = Parameter(np.array([1.0, np.nan]), "w")
    p.grad[...] = p.data
    tp = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    tp.grad = torch.tensor([1.0, np.nan], dtype=torch.float64)
    total = clip_grad_norm([p], 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_([tp], 1.0)
    assert math.isnan(total) and math.isnan(ttotal.item())
    np.testing.assert_array_equal(np.isnan(p.grad), np.isnan(tp.grad.numpy()))


# ---------------------------------------------------------------------------------------------
# Bad input: every message names the argument and its value
# ---------------------------------------------------------------------------------------------

def _p():
    return Parameter(np.zeros(2), "w")


def _set_lr(value):
    SGD([_p()], lr=0.1).lr = value


BAD_INPUTS = [
    (lambda: SGD([_p()], lr=-0.1), ValueError, r"`lr` must be >= 0, got -0.1"),
    (lambda: Adam([_p()], lr=float("nan")), ValueError,
     r"`lr` must be a finite number >= 0, got nan"),
    (lambda: SGD([_p()], lr="0.1"), TypeError,
     r"`lr` must be a real number >= 0, got '0.1' \(str\)"),
    (lambda: SGD([_p()], lr=True), TypeError,
     r"`lr` must be a real number >= 0, got True \(bool\)"),
    (lambda: _set_lr(-1.0), ValueError, r"`lr` must be >= 0, got -1.0"),
    (lambda: SGD([_p()], lr=0.1, momentum=-0.5), ValueError, r"`momentum` must be >= 0, got -0.5"),
    (lambda: RMSProp([_p()], momentum=-1), ValueError, r"`momentum` must be >= 0, got -1"),
    (lambda: SGD([_p()], lr=0.1, nesterov=True), ValueError,
     r"`nesterov=True` needs `momentum` > 0, got momentum=0.0"),
    (lambda: SGD([_p()], lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
     r"`nesterov` must be a bool, got 'yes'"),
    (lambda: SGD([_p()], lr=0.1, weight_decay=-0.01), ValueError,
     r"`weight_decay` must be >= 0, got -0.01"),
    (lambda: AdamW([_p()], weight_decay=-1e-2), ValueError,
     r"`weight_decay` must be >= 0, got -0.01"),
    (lambda: Adam([_p()], betas=(1.0, 0.999)), ValueError,
     r"`betas` must both be in \[0, 1\), got \(1.0, 0.999\)"),
    (lambda: AdamW([_p()], betas=(0.9, -0.1)), ValueError,
     r"`betas` must both be in \[0, 1\), got \(0.9, -0.1\)"),
    (lambda: Adam([_p()], betas=0.9), TypeError,
     r"`betas` must be a pair \(beta1, beta2\), got 0.9"),
    (lambda: Adam([_p()], eps=-1e-8), ValueError, r"`eps` must be >= 0, got -1e-08"),
    (lambda: RMSProp([_p()], alpha=1.0), ValueError, r"`alpha` must be in \[0, 1\), got 1.0"),
    (lambda: SGD([], lr=0.1), ValueError,
     r"`params` is empty: the optimiser needs at least one Parameter"),
    (lambda: Adam(iter([])), ValueError, r"`params` is empty"),
    (lambda: SGD([_p(), np.zeros(2)], lr=0.1), TypeError,
     r"`params\[1\]` must be a juanji.nn.Parameter, got ndarray"),
    (lambda: SGD(_p(), lr=0.1), TypeError,
     r"`params` must be an iterable of juanji.nn.Parameter \(e.g. model.parameters\(\)\), "
     r"got Parameter"),
    (lambda: SGD({"0.weight": np.zeros(2)}, lr=0.1), TypeError,
     r"`params` must be an iterable of juanji.nn.Parameter .*got dict"),
    (lambda: SGD([Parameter(np.zeros(2, np.int64), "idx")], lr=0.1), TypeError,
     r"`params\[0\]` \('idx'\) must hold float32 or float64 data, got int64"),
    (lambda: (lambda p: SGD([p, p], lr=0.1))(_p()), ValueError,
     r"`params\[1\]` \('w'\) is the same Parameter as `params\[0\]`"),
    (lambda: StepLR("sgd", 2), TypeError, r"`optimizer` must be a juanji.optim optimiser, got str"),
    (lambda: StepLR(SGD([_p()], 0.1), 0), ValueError, r"`step_size` must be an int >= 1, got 0"),
    (lambda: StepLR(SGD([_p()], 0.1), 2.0), TypeError, r"`step_size` must be an int >= 1, got 2.0"),
    (lambda: StepLR(SGD([_p()], 0.1), 2, gamma=0.0), ValueError, r"`gamma` must be > 0, got 0.0"),
    (lambda: CosineLR(SGD([_p()], 0.1), t_max=0), ValueError, r"`t_max` must be an int >= 1, got 0"),
    (lambda: CosineLR(SGD([_p()], 0.1), 5, eta_min=-0.1), ValueError,
     r"`eta_min` must be >= 0, got -0.1"),
    (lambda: clip_grad_norm([_p()], 0.0), ValueError, r"`max_norm` must be > 0, got 0.0"),
    (lambda: clip_grad_norm([_p()], None), TypeError, r"`max_norm` must be a real number"),
    (lambda: clip_grad_norm(np.zeros(2), 1.0), TypeError,
     r"`params` must be an iterable of juanji.nn.Parameter"),
    (lambda: make_optimizer(3, [_p()], 0.1), ValueError, r"`name` must be one of .*got 3"),
]


@pytest.mark.parametrize("call,exc,match", BAD_INPUTS)
def test_bad_input_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_repr_and_base_class():
    opt = SGD([_p()], lr=0.1, momentum=0.9)
    assert isinstance(opt, Optimizer)
    assert repr(opt) == "SGD(1 params, lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)"


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam", "adamw"])
def test_first_non_finite_state_names_the_parameter_and_buffer(name):
    """Issue 14 row 6: a gradient of 1e30 is finite, its square is not (float32): Adam's
    exp_avg_sq becomes inf while the weights stay finite."""
    params = [Parameter(np.zeros((2, 3), np.float32), "w"), Parameter(np.zeros(3, np.float32), "b")]
    opt = make_optimizer(name, params, lr=1e-3)
    assert opt.first_non_finite_state() is None  # no step yet: no buffers
    for p in params:
        p.grad[...] = 1.0
    opt.step()
    assert opt.first_non_finite_state() is None
    params[1].grad[...] = [0.0, 1e30, 0.0] if name != "momentum" else [0.0, np.inf, 0.0]
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point
        opt.step()
    buffer = {"momentum": "momentum_buffer", "rmsprop": "square_avg"}.get(name, "exp_avg_sq")
    assert opt.first_non_finite_state() == (1, buffer)
