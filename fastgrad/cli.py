"""The ``fastgrad`` command line (console script and ``python -m fastgrad``).

``fastgrad train`` trains an MLP on the HTRU2 pulsar data. Its defaults reproduce the
reference notebook (8-25-10-2, tanh everywhere, mean squared error on one-hot targets,
SGD with lr 0.01, batches of 100, 1000 steps, unscaled features); the setting the README
recommends (``--standardize --optimizer adam --loss xent``) does better. Bad input ends
the command with one line on stderr and exit status 2; nothing is written half-way.
"""
import argparse
import json
import platform
import sys
import time

import numpy as np

from . import __version__, _scalar

ACTIVATION_CHOICES = ("tanh", "relu", "sigmoid")


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


class _Progress:
    """A tqdm bar with the running loss; plain lines on stderr where tqdm is missing."""

    def __init__(self, total, enabled):
        self.total, self.done, self.bar = total, 0, None
        self.enabled = enabled
        if enabled:
            try:
                from tqdm import tqdm  # untyped
                self.bar = tqdm(total=total, unit="step", desc="training", file=sys.stderr,
                                dynamic_ncols=True)
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


def train(args):
    """Run ``fastgrad train``; returns the results as a dict."""
    from . import datasets, nn, optim
    from ._tensor import cross_entropy, mse_loss

    if args.plot:                                   # fail before training, not after
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'fastgrad[plot]'")

    start = time.perf_counter()
    try:
        X, y = datasets.load_pulsars(args.data)
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
    final = args.activation if args.loss == "mse" else None
    model = nn.MLP(args.layers, activation=args.activation, final_activation=final, rng=rng)
    make = {"sgd": lambda p: optim.SGD(p, lr=args.lr, momentum=args.momentum),
            "adam": lambda p: optim.Adam(p, lr=args.lr)}[args.optimizer]
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
        "optimizer": args.optimizer, "lr": args.lr, "batch": args.batch, "steps": steps,
        "seed": args.seed, "standardize": args.standardize,
        "samples": {"train": int(len(y_train)), "test": int(len(y_test))},
        "final_loss": losses[-1] if losses else None,
        "accuracy": {"train": _accuracies(model, X_train, y_train),
                     "test": _accuracies(model, X_test, y_test)},
    }
    if args.save:
        extra = {"layers": np.array(args.layers)}
        if stats is not None:
            extra.update(mean=stats[0], std=stats[1])
        try:
            model.save(args.save, **extra)
        except OSError as exc:
            raise UsageError(f"--save {args.save}: {exc.strerror or exc}") from None
        result["saved"] = str(args.save)
    if args.plot:
        _plot(losses, args.plot)
        result["plot"] = str(args.plot)
    result["wall_time_s"] = time.perf_counter() - start
    return result


def _plot(losses, path):
    import os
    import tempfile

    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
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
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastgrad-", suffix=suffix)
    os.close(fd)
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise UsageError(f"--plot {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def _report(result):
    lines = [f"{result['samples']['train']} training samples, {result['samples']['test']} "
             f"test samples; {'-'.join(map(str, result['layers']))} {result['activation']}, "
             f"{result['loss']}, {result['optimizer']} lr={result['lr']}, batch "
             f"{result['batch']}, {result['steps']} steps",
             f"final batch loss {result['final_loss']:.4f}",
             "",
             f"{'accuracy':10s} {'pulsars':>9s} {'non-pulsars':>12s} {'overall':>9s}"]
    fmt = lambda v: f"{v:.4f}" if v is not None else "-"          # noqa: E731
    for part in ("train", "test"):
        acc = result["accuracy"][part]
        if acc:
            lines.append(f"{part:10s} {fmt(acc['pulsars']):>9s} "
                         f"{fmt(acc['non_pulsars']):>12s} {fmt(acc['overall']):>9s}")
    if "saved" in result:
        lines.append(f"model saved to {result['saved']}")
    if "plot" in result:
        lines.append(f"loss curve saved to {result['plot']}")
    lines.append(f"wall time {result['wall_time_s']:.2f} s")
    return "\n".join(lines)


def _run_train(args):
    result = train(args)
    print(json.dumps(result, indent=2) if args.json else _report(result))
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
    t.add_argument("--lr", type=_positive(float), default=0.01, help="learning rate")
    t.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")
    t.add_argument("--batch", type=_positive(int), default=100, help="batch size")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive(int), default=1000)
    length.add_argument("--epochs", type=_positive(int),
                        help="passes over the training set (instead of --steps)")
    t.add_argument("--seed", type=int, default=0, help="seeds the split, weights, batches")
    t.add_argument("--standardize", action="store_true",
                   help="scale features with the training set's mean and std")
    t.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="share held out for testing (default 0.2; 0 trains on everything)")
    t.add_argument("--plot", metavar="PNG", help="write the loss curve (needs matplotlib)")
    t.add_argument("--save", metavar="NPZ", help="write the trained parameters (.npz)")
    t.add_argument("--json", action="store_true", help="print the results as JSON")
    t.set_defaults(run=_run_train)
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
