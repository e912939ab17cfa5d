"""micrograd's demo, written once for every scalar engine: a tiny MLP, two moons, a step.

The model is ``fastgrad.nn.scalar.MLP`` with weights drawn from ``random.Random(seed)``
in a fixed order, so every engine starts from the same numbers and performs the same
float operations in the same order. The step is the one in micrograd's ``demo.ipynb``:
inputs wrapped as scalars, a 2-16-16-1 ReLU MLP, the SVM max-margin loss
``mean(relu(1 - y * score))`` plus ``1e-4 * sum(p * p)``, gradients zeroed, the backward
pass, then ``p -= lr * p.grad``; every step uses the whole batch of 100 points.

Graph engines (``fastgrad``, ``reference``, ``micrograd``, ``torch`` on 0-d tensors) run
``scalar.MLP`` built on their own scalar. A functional engine (``autograd``) runs
``scalar_loss``: the same forward pass written over a flat list of parameters (the order
of ``MLP.parameters()``), differentiated by its ``value_and_grad``.
"""
import gc
import time

from fastgrad.datasets import make_moons
from fastgrad.nn import scalar

SEED = 1337
SIZES = (2, 16, 16, 1)      # inputs, then the layers
LEARNING_RATE = 0.5
ALPHA = 1e-4                # L2 weight


def MLP(Value, nin=SIZES[0], nouts=SIZES[1:], seed=SEED):
    """fastgrad's scalar MLP (micrograd's shape) with the given scalar as its parameters.

    ``Value=float`` gives the initial weights as plain floats, in ``parameters()`` order.
    """
    return scalar.MLP(nin, list(nouts), activation="relu", rng=seed, value=Value)


def two_moons(n_samples=100, noise=0.1, seed=SEED):
    """``fastgrad.datasets.make_moons`` with labels -1 and +1, as plain Python floats
    (``X`` a list of ``[x0, x1]``, ``y`` a list), so no engine sees a numpy scalar."""
    X, y = make_moons(n_samples, noise=noise, seed=seed)
    return X.tolist(), (2.0 * y - 1.0).tolist()


def train_step(model, X, y, engine, lr=LEARNING_RATE):
    """One SGD step of a graph engine on the whole batch; the loss before the update."""
    const = engine.const
    params = model.parameters()
    inputs = [[const(xi) for xi in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    loss = data_loss + reg_loss
    engine.zero_grad(params)
    engine.backward(loss)
    engine.sgd(params, lr)
    return engine.item(loss)


def forward(params, x, relu, sizes=SIZES):
    """The MLP's score of one input ``x`` from the flat parameter list, op for op as
    ``scalar.MLP`` computes it: per neuron the bias, then ``+ w_j * x_j``; ``relu`` on
    every layer but the last."""
    i, n_in = 0, len(x)
    for layer, n_out in enumerate(sizes[1:]):
        last = layer == len(sizes) - 2
        out = []
        for _ in range(n_out):
            act = params[i + n_in]
            for j in range(n_in):
                act = act + params[i + j] * x[j]
            out.append(act if last else relu(act))
            i += n_in + 1
        x, n_in = out, n_out
    return x[0]


def sample_loss(relu, sizes=SIZES):
    """The per-sample hinge loss ``relu(1 - y * score)`` as a function of
    ``(params, x, y)``: what ``fastgrad.trace`` records once and ``vmap`` batches."""
    def loss(params, x, y):
        return relu(1 - y * forward(params, x, relu, sizes))
    return loss


def scalar_loss(X, y, relu, sizes=SIZES):
    """The demo's loss as a function of the flat parameter list, op for op as
    ``scalar.MLP`` and ``train_step`` compute it (for functional engines)."""
    def loss(params):
        scores = [forward(params, x, relu, sizes) for x in X]
        losses = [relu(1 - yi * si) for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        return data_loss + reg_loss
    return loss


def mlp_sampler(engine, X, y):
    """``sample(first)`` for ``harness.Campaign``: one training step (timed), the model
    carried on from step to step; the first sample starts from the seeded weights and its
    outputs are the loss and every parameter after the update.

    The timed step ends with ``gc.collect()``: freeing the step's graph is part of its
    cost. Reference counting frees fastgrad's, the reference's and PyTorch's graphs as the
    step returns (the collection then finds nothing: ~0.1 ms at most), but micrograd's
    graph is made of reference cycles (each node's ``_backward`` closure refers to the
    node) that only the cyclic collector frees, at about the cost of the step itself. In a
    training loop that cost falls on the following steps; here each sample pays its own.
    """
    clock, collect = time.perf_counter, gc.collect
    if engine.kind == "functional":
        vg = engine.value_and_grad(scalar_loss(X, y, engine.relu))
        state = [MLP(float).parameters()]

        def sample(first):
            t0 = clock()
            loss, grads = vg(state[0])
            state[0] = [p - LEARNING_RATE * g for p, g in zip(state[0], grads)]
            collect()
            t1 = clock()
            return {"step": t1 - t0}, ({"loss": loss, "parameters": state[0]}
                                       if first else None)
        return sample

    model = MLP(engine.Value)

    def sample(first):
        t0 = clock()
        loss = train_step(model, X, y, engine)
        collect()
        t1 = clock()
        out = None
        if first:
            out = {"loss": loss, "parameters": [engine.item(p) for p in model.parameters()]}
        return {"step": t1 - t0}, out
    return sample
