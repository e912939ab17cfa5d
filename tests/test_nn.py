"""nn modules, the scalar nn, optimisers against PyTorch's update rules."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import Tensor, Value, nn, optim
from fastgrad.nn import scalar


def test_linear_shapes_inits_and_forward():
    layer = nn.Linear(3, 2, rng=0)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    x = np.ones((5, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data)
    for init in nn.INITS:
        lin = nn.Linear(50, 40, init=init, rng=1)
        assert np.isfinite(lin.weight.data).all()
    assert np.all(nn.Linear(4, 4, init="he", rng=0).bias.data == 0)
    std = nn.Linear(400, 100, init="normal", rng=0).weight.data.std()
    assert std == pytest.approx(1 / np.sqrt(500), rel=0.05)
    with pytest.raises(ValueError, match="init must be one of"):
        nn.Linear(2, 2, init="zeros")
    with pytest.raises(ValueError, match="n_out must be a positive integer, got 0"):
        nn.Linear(2, 0)
    assert nn.Linear(2, 2, bias=False).bias is None


def test_mlp_structure_parameters_repr_modes():
    model = nn.MLP([8, 25, 10, 2], activation="tanh", final_activation="tanh", rng=0)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                     "layers.4.weight", "layers.4.bias"]
    assert [p.shape for p in model.parameters()] == [(8, 25), (25,), (25, 10), (10,),
                                                     (10, 2), (2,)]
    text = repr(model)
    assert text.startswith("MLP([8, 25, 10, 2], activation='tanh'") and "(0): Linear(8, 25" in text
    assert "(5): Tanh()" in text
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    out = model(np.ones((4, 8)))
    assert out.shape == (4, 2) and np.all(np.abs(out.data) < 1)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP([2, 2], activation="gelu")


def test_state_dict_save_load_round_trip(tmp_path):
    a = nn.MLP([3, 4, 2], rng=0)
    b = nn.MLP([3, 4, 2], rng=1)
    x = np.random.default_rng(2).normal(size=(6, 3))
    assert not np.allclose(a(x).data, b(x).data)
    path = tmp_path / "model.npz"
    a.save(path, mean=np.zeros(3))
    extra = b.load(path)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    np.testing.assert_array_equal(extra["mean"], np.zeros(3))
    with pytest.raises(KeyError, match=r"missing \['layers.4.weight', 'layers.4.bias'\]"):
        nn.MLP([3, 4, 4, 2]).load_state_dict({k: v for k, v in a.state_dict().items()})
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(3, 4\), the "
                                         r"parameter has shape \(3, 5\)"):
        nn.MLP([3, 5, 2]).load_state_dict(a.state_dict())


def test_model_files_are_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers.0.weight": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle"):
        nn.MLP([1, 1]).load(path)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model = nn.MLP([2, 2], rng=0)

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert list(tmp_path.iterdir()) == []            # no half-written file, no temp file


def test_losses_are_exported_by_nn():
    assert nn.mse_loss is fg.mse_loss and nn.cross_entropy is fg.cross_entropy


def test_scalar_mlp_in_micrograds_shape():
    from fastgrad.reference import Value as RefValue
    model = scalar.MLP(2, [16, 16, 1], rng=0)
    assert len(model.parameters()) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert repr(model).startswith("MLP of [Layer of [reluNeuron(2)")
    out = model([Value(0.5), -1.0])
    out.backward()
    ref = scalar.MLP(2, [16, 16, 1], rng=0, value=RefValue)
    ref_out = ref([RefValue(0.5), -1.0])
    ref_out.backward()
    assert out.data == ref_out.data
    assert [p.grad for p in model.parameters()] == [p.grad for p in ref.parameters()]
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])


OPTIMIZERS = [
    ("sgd", lambda p: optim.SGD(p, lr=0.1), "SGD", dict(lr=0.1)),
    ("sgd_momentum_decay", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
     "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("adam", lambda p: optim.Adam(p, lr=0.05), "Adam", dict(lr=0.05)),
    ("adam_decay", lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
     "Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
]


@pytest.mark.parametrize("name,ours,theirs,kwargs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizers_match_pytorch(name, ours, theirs, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(6)]
    w = Tensor(w0.copy(), requires_grad=True)
    opt = ours([w])
    tw = torch.tensor(w0.copy(), requires_grad=True)
    topt = getattr(torch.optim, theirs)([tw], **kwargs)
    for g in grads:
        w.grad = g.copy()
        opt.step()
        tw.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,ours,theirs,kwargs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizers_on_values_match_tensors(name, ours, theirs, kwargs):
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=4)
    grads = [rng.normal(size=4) for _ in range(5)]
    t = Tensor(w0.copy(), requires_grad=True)
    vs = [Value(float(x)) for x in w0]
    opt_t, opt_v = ours([t]), ours(vs)
    for g in grads:
        t.grad = g.copy()
        for v, gi in zip(vs, g):
            v.grad = float(gi)
        opt_t.step()
        opt_v.step()
    np.testing.assert_allclose([v.data for v in vs], t.data, rtol=1e-13)
    opt_v.zero_grad()
    opt_t.zero_grad()
    assert all(v.grad == 0.0 for v in vs) and t.grad is None


def test_optimizer_bad_input():
    w = Tensor([1.0], requires_grad=True)
    for bad in (0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            optim.SGD([w], lr=bad)
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        optim.SGD([w], lr="0.1")
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([Tensor([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="Tensors or Values, but item 0 is ndarray"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="betas must lie in"):
        optim.Adam([w], betas=(1.0, 0.9))


def test_a_training_loop_decreases_the_loss():
    X, y = fg.datasets.make_moons(200, noise=0.1, seed=0)
    model = nn.MLP([2, 16, 2], activation="relu", rng=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(200):
        loss = fg.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p)],
                         ids=["SGD", "Adam"])
def test_optimizers_refuse_a_bare_parameter_and_empty_or_foreign_lists(make):
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="params must be an iterable of Tensors or Values, "
                                        "got Tensor"):
        make(w)
    with pytest.raises(TypeError, match="params must be an iterable of Tensors or Values, "
                                        "got Value"):
        make(Value(1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        make([])
    with pytest.raises(ValueError, match="empty parameter list"):
        make(nn.Sequential(nn.Tanh()).parameters())
    with pytest.raises(TypeError, match="but item 1 is ndarray"):
        make([w, np.ones(3)])
    with pytest.raises(TypeError, match="got float"):
        make(1.0)
    opt = make(iter([w]))                               # any iterable will do
    w.grad = np.ones((3, 2))
    opt.step()
    assert np.all(w.data < 1)


def test_a_model_file_carries_what_predicting_needs(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(50.0, 20.0, size=(40, 3))
    scaled, (mean, std) = (X - X.mean(0)) / X.std(0), (X.mean(0), X.std(0))
    model = nn.MLP([3, 5, 2], activation="relu", final_activation="sigmoid", rng=0,
                   standardize=(mean, std), loss="mse")
    plain = nn.MLP([3, 5, 2], activation="relu", final_activation="sigmoid", rng=0)
    np.testing.assert_allclose(model(X).data, plain(scaled).data, rtol=1e-13, atol=1e-15)
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert str(data["__fastgrad_version__"]) == fg.__version__
        assert data["__sizes__"].tolist() == [3, 5, 2] and str(data["__loss__"]) == "mse"
        assert str(data["__activation__"]) == "relu"
        assert str(data["__final_activation__"]) == "sigmoid"
    loaded = nn.load(path)                             # from the file alone
    assert (loaded.sizes, loaded.activation, loaded.final_activation, loaded.loss) == \
        ([3, 5, 2], "relu", "sigmoid", "mse")
    np.testing.assert_array_equal(loaded(X).data, model(X).data)   # raw features in
    np.testing.assert_array_equal(nn.MLP.from_file(path)(X).data, model(X).data)
    same = nn.MLP([3, 5, 2], activation="relu", final_activation="sigmoid", rng=9)
    same.load(path)                                    # loading into a model adopts them
    np.testing.assert_array_equal(same(X).data, model(X).data)


def test_loading_refuses_a_file_that_does_not_fit(tmp_path):
    path = tmp_path / "model.npz"
    nn.MLP([8, 25, 10, 2], rng=0).save(path)
    with pytest.raises(ValueError, match=r"holds an MLP of sizes 8-25-10-2, this model is "
                                         r"8-5-2"):
        nn.MLP([8, 5, 2]).load(path)
    with pytest.raises(ValueError, match=r"saved with activation='tanh', this model has "
                                         r"activation='relu'"):
        nn.MLP([8, 25, 10, 2], activation="relu").load(path)
    with pytest.raises(ValueError, match=r"saved with final_activation=None, this model "
                                         r"has final_activation='tanh'"):
        nn.MLP([8, 25, 10, 2], final_activation="tanh").load(path)
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(8, 25\), the "
                                         r"parameter has shape \(8, 5\)"):
        nn.Sequential(nn.Linear(8, 5), nn.Tanh()).load_state_dict(
            {"layers.0.weight": np.zeros((8, 25)), "layers.0.bias": np.zeros(25)})
    with pytest.raises(ValueError, match="is a name the model file uses itself"):
        nn.MLP([2, 2]).save(tmp_path / "x.npz", sizes=[1])
    with pytest.raises(ValueError, match="shape \\(8,\\), one per input feature"):
        nn.MLP([8, 2], standardize=(np.zeros(3), np.ones(3)))


def test_a_model_file_of_the_old_format(tmp_path):
    # what fastgrad train --save wrote before model files recorded the architecture
    old = nn.MLP([3, 4, 2], rng=0)
    mean, std = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 8.0])
    path = tmp_path / "old.npz"
    np.savez(path, **old.state_dict(), __layers__=np.array([3, 4, 2]), __mean__=mean,
             __std__=std)
    with pytest.raises(ValueError, match=r"a model file without its architecture .* "
                                         r"nn.MLP\(sizes, activation=\.\.\."):
        nn.load(path)
    model = nn.MLP([3, 4, 2], rng=5)
    model.load(path)                          # the documented fallback: statistics applied
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(model(x).data, old((x - mean) / std).data)
