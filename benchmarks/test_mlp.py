"""Workload 3: micrograd's demo MLP on two moons, one SGD step per round, every engine.

Before timing, each engine's first step from the seeded weights is compared with the
other engines' (loss and every parameter after the update): fastgrad against the
reference to 1e-12 relative, micrograd against either to 1e-9. The outcome goes in
``extra_info["check"]`` and is asserted after the timing, so a fast but wrong row still
shows in the table, marked, and fails the run.
"""
import pytest

import engines
from tiny_mlp import MLP, one_step, train_step, two_moons

ROUNDS = 15
TIGHT = 1e-12       # fastgrad vs reference: the same float operations in the same order
LOOSE = 1e-9        # vs micrograd: int zeros from its relu, its own summation order


@pytest.fixture(scope="module")
def moons():
    return two_moons()


@pytest.fixture(scope="module")
def first_steps(moons):
    """``first_steps(name)``: the engine's one-step result, or None if it is unavailable."""
    cache = {}

    def get(name):
        if name not in cache:
            try:
                cache[name] = one_step(engines.load(name), *moons)
            except engines.EngineUnavailable:
                cache[name] = None
        return cache[name]
    return get


def _worst_relative(mine, theirs):
    """Largest ``|a - b| / max(|a|, |b|)`` over the loss and the parameters, and where."""
    (loss_a, params_a), (loss_b, params_b) = mine, theirs
    assert len(params_a) == len(params_b)
    pairs = [("loss", loss_a, loss_b)]
    pairs += [(f"parameter {i}", a, b) for i, (a, b) in enumerate(zip(params_a, params_b))]
    worst, where = 0.0, "loss"
    for name, a, b in pairs:
        if a != b:
            err = abs(a - b) / max(abs(a), abs(b))
            if not err <= worst:        # nan counts as worst
                worst, where = err, name
    return worst, where


def _cross_check(name, first_steps):
    mine = first_steps(name)
    verdicts, failures = [], []
    for other in engines.ENGINE_NAMES:
        theirs = first_steps(other) if other != name else None
        if theirs is None:
            continue
        tol = TIGHT if {name, other} == {"fastgrad", "reference"} else LOOSE
        worst, where = _worst_relative(mine, theirs)
        verdicts.append(f"vs {other}: {worst:.1e} (tol {tol:.0e})")
        if not worst <= tol:
            failures.append(f"{name} vs {other}: relative error {worst:.3e} at {where} "
                            f"exceeds {tol:.0e}")
    return verdicts, failures


def test_mlp_step(benchmark, engine, moons, first_steps, summary):
    X, y = moons
    verdicts, failures = _cross_check(engine.name, first_steps)
    model = MLP(engine.Value, 2, [16, 16, 1])
    nparams = len(model.parameters())

    benchmark.group = "mlp step (2-16-16-1, 100 points)"
    benchmark.extra_info.update(
        workload="mlp_step", engine=engine.name, params=nparams, points=len(X),
        check=("MISMATCH: " + "; ".join(failures)) if failures
        else ("ok " + ", ".join(verdicts) if verdicts else "unverified (no other engine)"),
        note=engine.note)
    benchmark.pedantic(train_step, args=(model, X, y, engine.backward),
                       rounds=ROUNDS, warmup_rounds=1)
    if benchmark.stats is not None:     # None under --benchmark-disable
        ms = benchmark.stats.stats.median * 1e3
        benchmark.extra_info["ms_per_step"] = ms
        summary(f"{'mlp step':15} {nparams:>7} params {engine.name:10} {ms:9.2f} ms/step  "
                f"[{benchmark.extra_info['check']}]")
    assert not failures, "\n".join(failures)
