"""The ``fastgrad`` command line (console script and ``python -m fastgrad``).

``fastgrad train`` trains an MLP on the HTRU2 pulsar data. Its defaults reproduce the
reference notebook (8-25-10-2, tanh everywhere, mean squared error on one-hot targets,
SGD with lr 0.01, batches of 100, 1000 steps, unscaled features); the setting the README
recommends (``--standardize --optimizer adam --loss xent``) does better.
``fastgrad predict`` and ``fastgrad evaluate`` use a model file written by
``train --save``. Bad input ends a command with one line on stderr and exit status 2,
before any training; nothing is written half-way, and if writing an output fails after
training the results are printed first.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from . import __version__, _scalar

ACTIVATION_CHOICES = ("tanh", "relu", "sigmoid")
#: The default learning rate of SGD for each activation: sigmoid's derivative is at most
#: 1/4, so it needs a larger step to train in the default 1000 steps.
DEFAULT_LR = {"tanh": 0.01, "relu": 0.01, "sigmoid": 0.1}


class UsageError(Exception):
    """A problem with the command's input: printed as one line, exit status 2."""


def _info(args):
    """Print what is installed: versions and where the compiled core lives."""
    tape = _scalar.Tape()
    print(f"fastgrad {__version__}")
    print(f"compiled core: {_scalar.__file__}")
    print(f"bytes per scalar node: {tape.nbytes // tape.capacity}")
    print(f"python {platform.python_version()} ({platform.machine()}), numpy {np.__version__}")
    return 0


# ---- fastgrad train -------------------------------------------------------------------

def _layers(text):
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as "
                                         f"8,25,10,2, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"needs at least two positive sizes, got {text!r}")
    return sizes


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0 or (kind is float and not np.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def _nonnegative(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value >= 0 or (kind is float and not np.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
        return value
    return parse


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


def _accuracies(model, X, y):
    """The notebook's three figures: accuracy on pulsars, on non-pulsars, overall."""
    from ._tensor import no_grad
    if len(y) == 0:
        return None
    with no_grad():
        predicted = np.argmax(model(X).data, axis=1)
    right = predicted == y
    return {"pulsars": float(right[y == 1].mean()) if (y == 1).any() else None,
            "non_pulsars": float(right[y == 0].mean()) if (y == 0).any() else None,
            "overall": float(right.mean())}


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):             # replaced or closed
        return False


class _Progress:
    """A tqdm bar with the running loss; plain lines on stderr where tqdm is missing."""

    def __init__(self, total, enabled):
        self.total, self.done, self.bar = total, 0, None
        # tqdm's disable=None convention: no bar unless stderr is a terminal (CI logs)
        self.enabled = enabled and _isatty(sys.stderr)
        if self.enabled:
            try:
                from tqdm import tqdm  # untyped
                self.bar = tqdm(total=total, unit="step", desc="training", file=sys.stderr,
                                dynamic_ncols=True, disable=None)
            except ImportError:
                print("(install tqdm for a progress bar: pip install 'fastgrad[train]')",
                      file=sys.stderr)

    def update(self, loss):
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if self.done % 10 == 0 or self.done == self.total:
                self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        elif self.done % max(1, self.total // 10) == 0 or self.done == self.total:
            print(f"step {self.done}/{self.total}  loss {loss:.4f}", file=sys.stderr)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _check_arguments(args):
    """Every check that needs no data: before anything is loaded or trained."""
    if args.optimizer == "adam" and args.momentum is not None:
        raise UsageError("--momentum is for --optimizer sgd; Adam's momentum is its first "
                         "beta (0.9), which this command does not change")
    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            from matplotlib.figure import Figure
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install "
                             "'fastgrad[plot]'") from None
        ext = os.path.splitext(str(args.plot))[1].lstrip(".").lower()
        formats = Figure().canvas.get_supported_filetypes()
        if ext and ext not in formats:
            raise UsageError(f"--plot {args.plot}: matplotlib cannot write .{ext} files; "
                             f"use one of {', '.join('.' + f for f in sorted(formats))}")
        _check_writable("--plot", args.plot)
    if args.save:
        _check_writable("--save", args.save)


def _check_writable(option, path):
    """Refuse an output path whose folder is missing or not writable, or is a folder."""
    path = str(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in the folder {folder}")


def train(args):
    """Run ``fastgrad train``; returns the results as a dict.

    Writing ``--save`` and ``--plot`` comes last; if it fails, the result holds an
    ``"errors"`` list (one message per output) and the other results are complete.
    """
    from . import datasets, nn, optim
    from ._tensor import cross_entropy, mse_loss

    _check_arguments(args)                          # fail before training, not after
    start = time.perf_counter()
    try:
        X, y = datasets.load_pulsars(args.data)
    except datasets.DataNotFoundError as exc:
        raise UsageError(str(exc)) from None        # the places tried, one a line
    except (datasets.DataError, FileNotFoundError) as exc:
        raise UsageError(str(exc).replace("\n", " ")) from None
    n_features = X.shape[1]
    if args.layers[0] != n_features:
        raise UsageError(f"--layers {','.join(map(str, args.layers))}: the first size must "
                         f"be {n_features}, the number of features in the data")
    if args.layers[-1] != 2:
        raise UsageError(f"--layers {','.join(map(str, args.layers))}: the last size must "
                         "be 2, one output per class (non-pulsar, pulsar)")

    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, args.test_fraction, seed=args.seed)
    if args.batch > len(y_train):
        raise UsageError(f"--batch {args.batch} is larger than the {len(y_train)} training "
                         "samples")
    stats = None
    if args.standardize:
        X_train, X_test, stats = datasets.standardize(X_train, X_test)

    rng = np.random.default_rng(args.seed)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.activation]
    # squared error on one-hot targets: tanh on the output, as the notebook, whatever the
    # hidden activation (a relu output stops learning once its units die)
    final = "tanh" if args.loss == "mse" else None
    model = nn.MLP(args.layers, activation=args.activation, final_activation=final, rng=rng,
                   loss=args.loss)
    make = {"sgd": lambda p: optim.SGD(p, lr=lr, momentum=args.momentum or 0.0),
            "adam": lambda p: optim.Adam(p, lr=lr)}[args.optimizer]
    opt = make(model.parameters())
    targets = np.eye(2)[y_train]                    # one-hot, for the squared error
    steps = args.steps
    if args.epochs is not None:
        steps = args.epochs * int(np.ceil(len(y_train) / args.batch))

    losses = []
    progress = _Progress(steps, enabled=not args.json)
    try:
        for _ in range(steps):
            idx = rng.integers(0, len(y_train), args.batch)     # as the notebook draws
            out = model(X_train[idx])
            loss = (mse_loss(out, targets[idx]) if args.loss == "mse"
                    else cross_entropy(out, y_train[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            progress.update(losses[-1])
    finally:
        progress.close()

    result = {
        "layers": args.layers, "activation": args.activation, "loss": args.loss,
        "optimizer": args.optimizer, "lr": lr, "batch": args.batch, "steps": steps,
        "seed": args.seed, "standardize": args.standardize,
        "samples": {"train": int(len(y_train)), "test": int(len(y_test))},
        "final_loss": losses[-1] if losses else None,
        "accuracy": {"train": _accuracies(model, X_train, y_train),
                     "test": _accuracies(model, X_test, y_test)},
    }
    errors = []
    if args.save:
        if stats is not None:                       # the saved model takes raw features
            model.set_standardization(*stats)
        try:
            model.save(args.save)
            result["saved"] = str(args.save)
        except OSError as exc:
            errors.append(f"--save {args.save}: {exc.strerror or exc}")
    if args.plot:
        try:
            _plot(losses, args.plot)
            result["plot"] = str(args.plot)
        except (OSError, ValueError) as exc:
            errors.append(f"--plot {args.plot}: {getattr(exc, 'strerror', None) or exc}")
    if errors:
        result["errors"] = errors
    result["wall_time_s"] = time.perf_counter() - start
    return result


def _plot(losses, path):
    from matplotlib.figure import Figure

    from ._io import atomic_write
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(losses) + 1), losses, lw=0.8, label="batch loss")
    if len(losses) >= 20:
        k = max(1, len(losses) // 50)
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, len(losses) + 1), smooth, lw=2, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    suffix = os.path.splitext(str(path))[1] or ".png"
    with atomic_write(path, suffix=suffix) as tmp:
        fig.savefig(tmp)


def _accuracy_lines(accuracy):
    """The accuracy table: a header and one row per part (train, test, data)."""
    lines = [f"{'accuracy':10s} {'pulsars':>9s} {'non-pulsars':>12s} {'overall':>9s}"]
    fmt = lambda v: f"{v:.4f}" if v is not None else "-"          # noqa: E731
    for part, acc in accuracy.items():
        if acc:
            lines.append(f"{part:10s} {fmt(acc['pulsars']):>9s} "
                         f"{fmt(acc['non_pulsars']):>12s} {fmt(acc['overall']):>9s}")
    return lines


def _report(result):
    lines = [f"{result['samples']['train']} training samples, {result['samples']['test']} "
             f"test samples; {'-'.join(map(str, result['layers']))} {result['activation']}, "
             f"{result['loss']}, {result['optimizer']} lr={result['lr']}, batch "
             f"{result['batch']}, {result['steps']} steps",
             f"final batch loss {result['final_loss']:.4f}",
             "",
             *_accuracy_lines(result["accuracy"])]
    if "saved" in result:
        lines.append(f"model saved to {result['saved']}")
    if "plot" in result:
        lines.append(f"loss curve saved to {result['plot']}")
    lines.append(f"wall time {result['wall_time_s']:.2f} s")
    return "\n".join(lines)


def _run_train(args):
    result = train(args)
    print(json.dumps(result, indent=2) if args.json else _report(result), flush=True)
    for message in result.get("errors", ()):       # the results are out; now the failure
        print(f"fastgrad train: error: {message}", file=sys.stderr)
    return 2 if result.get("errors") else 0


# ---- fastgrad predict, fastgrad evaluate ----------------------------------------------

def _model_and_data(args, labelled):
    """The model of ``--model`` and the rows of ``--data``, checked against each other."""
    from . import datasets, nn
    try:
        model = nn.load(args.model)
    except FileNotFoundError:
        raise UsageError(f"--model {args.model}: no such file") from None
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"--model {_one_line(exc)}") from None
    if not os.path.exists(args.data):
        raise UsageError(f"--data {args.data}: no such file")
    try:
        X, y = datasets.read_csv(args.data, labelled=labelled)
    except datasets.DataError as exc:
        raise UsageError(f"--data {_one_line(exc)}") from None
    if model.sizes[0] != X.shape[1] or model.sizes[-1] != 2:
        raise UsageError(f"--model {args.model}: an MLP of sizes "
                         f"{'-'.join(map(str, model.sizes))} does not take {X.shape[1]} "
                         "features to 2 classes (non-pulsar, pulsar)")
    return model, X, y


def _one_line(exc):
    return (exc.args[0] if exc.args and isinstance(exc.args[0], str)
            else str(exc)).replace("\n", " ")


def _predict(args):
    """Run ``fastgrad predict``: one predicted class (1 = pulsar) per data row."""
    from ._tensor import no_grad
    model, X, _ = _model_and_data(args, labelled=None)
    with no_grad():
        predicted = np.argmax(model(X).data, axis=1)
    if args.json:
        print(json.dumps({"model": str(args.model), "data": str(args.data),
                          "samples": int(len(predicted)),
                          "pulsars": int(predicted.sum()),
                          "predictions": predicted.tolist()}, indent=2))
    else:
        print("\n".join(map(str, predicted.tolist())))
    return 0


def _evaluate(args):
    """Run ``fastgrad evaluate``: the three accuracies of ``train`` on a labelled CSV."""
    model, X, y = _model_and_data(args, labelled=True)
    accuracy = _accuracies(model, X, y)
    if args.json:
        print(json.dumps({"model": str(args.model), "data": str(args.data),
                          "samples": int(len(y)), "accuracy": accuracy}, indent=2))
    else:
        print(f"{len(y)} samples; model {'-'.join(map(str, model.sizes))} "
              f"{model.activation}, trained with {model.loss or 'an unrecorded loss'}")
        print("\n".join(_accuracy_lines({"data": accuracy})))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = _Parser(
        prog="fastgrad",
        description="Reverse-mode automatic differentiation with a compiled tape.")
    parser.add_argument("--version", action="version", version=f"fastgrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="show versions and the compiled core in use")
    info.set_defaults(run=_info)

    t = commands.add_parser(
        "train", help="train an MLP on the HTRU2 pulsar data",
        description="Train an MLP on the HTRU2 pulsar data and report accuracies. The "
                    "defaults reproduce the reference notebook; the README recommends "
                    "--standardize --optimizer adam --loss xent.")
    t.add_argument("--data", metavar="PATH",
                   help="CSV file or folder (default: $FASTGRAD_DATA if set, else the "
                        "copy of HTRU2 bundled with fastgrad)")
    t.add_argument("--layers", type=_layers, default=[8, 25, 10, 2], metavar="SIZES",
                   help="units per layer, inputs first (default: 8,25,10,2)")
    t.add_argument("--activation", choices=ACTIVATION_CHOICES, default="tanh")
    t.add_argument("--loss", choices=("mse", "xent"), default="mse",
                   help="mse: squared error on one-hot targets with the activation on the "
                        "output too (the notebook); xent: cross-entropy from logits")
    t.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    t.add_argument("--lr", type=_positive(float), default=None,
                   help="learning rate (default: 0.01; 0.1 with --activation sigmoid)")
    t.add_argument("--momentum", type=_nonnegative(float), default=None,
                   help="SGD momentum (default 0; not with --optimizer adam)")
    t.add_argument("--batch", type=_positive(int), default=100, help="batch size")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive(int), default=1000)
    length.add_argument("--epochs", type=_positive(int),
                        help="passes over the training set (instead of --steps)")
    t.add_argument("--seed", type=_nonnegative(int), default=0,
                   help="seeds the split, weights, batches")
    t.add_argument("--standardize", action="store_true",
                   help="scale features with the training set's mean and std")
    t.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="share held out for testing (default 0.2; 0 trains on everything)")
    t.add_argument("--plot", metavar="PNG", help="write the loss curve (needs matplotlib)")
    t.add_argument("--save", metavar="NPZ",
                   help="write the trained model (.npz: parameters, sizes, activations, "
                        "standardization, loss; for predict and evaluate)")
    t.add_argument("--json", action="store_true", help="print the results as JSON")
    t.set_defaults(run=_run_train)

    for name, run, text in (
            ("predict", _predict, "print the class of every row of a CSV (1 = pulsar, 0 = "
                                  "non-pulsar), with a model saved by train --save"),
            ("evaluate", _evaluate, "the accuracies of a saved model on a labelled CSV "
                                    "(pulsars, non-pulsars, overall)")):
        c = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] +
                                ". The model applies the standardization it was trained "
                                "with; give raw features.")
        c.add_argument("--model", metavar="NPZ", required=True,
                       help="a model file written by fastgrad train --save")
        c.add_argument("--data", metavar="CSV", required=True,
                       help="8 feature columns" + (", then the 0/1 label" if name ==
                                                   "evaluate" else ", a 0/1 label "
                                                   "column after them is ignored"))
        c.add_argument("--json", action="store_true", help="print the results as JSON")
        c.set_defaults(run=run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"fastgrad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fastgrad {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
