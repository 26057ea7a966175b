"""The declared table of every choice a spec can name, with what it means.

One table, like TensorFlow Playground's state table: the spec validates names against it,
``neuralab info`` prints it, and each implementation registry (activations, inits,
optimisers, schedules, losses, data sets) is tested to cover exactly these names.
This module imports nothing heavy, so validating a spec or printing help stays instant.

Example:
    >>> from neuralab.spec.catalog import names
    >>> names("optimizers")[:3]
    ('sgd', 'momentum', 'nesterov')
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One named choice: a one-line summary and a table of properties."""

    name: str
    summary: str
    properties: dict[str, str] = field(default_factory=dict)


def _table(*entries: Entry) -> dict[str, Entry]:
    return {entry.name: entry for entry in entries}


def _act(name: str, summary: str, zero_centred: str, saturating: str, cost: str,
         differentiable: str, output_range: str, rnn: str = "no") -> Entry:
    # rnn: "yes" where torch.nn.RNN offers it as the cell's nonlinearity (model.recurrent.nonlinearity)
    return Entry(name, summary, {
        "zero-centred": zero_centred, "saturating": saturating, "cost": cost,
        "differentiable": differentiable, "range": output_range, "rnn": rnn,
    })


ACTIVATIONS = _table(
    _act("sigmoid", "1 / (1 + e^-z); squashes to (0, 1). Vanishing gradients when deep.",
         "no", "both sides", "moderate (exp)", "everywhere", "(0, 1)"),
    _act("tanh", "(e^z - e^-z) / (e^z + e^-z); a zero-centred sigmoid.",
         "yes", "both sides", "moderate (exp)", "everywhere", "(-1, 1)", rnn="yes"),
    _act("relu", "max(0, z); the default for hidden layers. Units can die.",
         "no", "no (zero for z < 0)", "cheapest", "except at 0", "[0, inf)", rnn="yes"),
    _act("leaky_relu", "max(0.01 z, z); ReLU that keeps a small slope for z < 0.",
         "roughly", "no", "cheap", "except at 0", "(-inf, inf)"),
    _act("elu", "z if z > 0 else e^z - 1; smooth negative part, mean closer to 0.",
         "roughly", "negative side", "moderate (exp)", "everywhere (alpha=1)", "(-1, inf)"),
    _act("selu", "scaled ELU that keeps activations normalised (with lecun_normal init).",
         "yes", "negative side", "moderate (exp)", "except at 0", "(-1.76, inf)"),
    _act("gelu", "z * Phi(z); smooth ReLU used by Transformers.",
         "roughly", "negative side", "moderate (erf)", "everywhere", "(-0.17, inf)"),
    _act("silu", "z * sigmoid(z) (Swish); smooth, non-monotonic.",
         "roughly", "negative side", "moderate (exp)", "everywhere", "(-0.28, inf)"),
    _act("softplus", "log(1 + e^z); a smooth ReLU.",
         "no", "negative side", "moderate (exp, log)", "everywhere", "(0, inf)"),
    _act("linear", "z; no non-linearity: any depth stays a linear model.",
         "yes", "no", "free", "everywhere", "(-inf, inf)"),
)

OUTPUT_ACTIVATIONS = _table(
    Entry("auto", "regression → linear, binary → sigmoid, multi-class → softmax"),
    Entry("linear", "raw output; for regression"),
    Entry("sigmoid", "probability of the positive class; for binary classification"),
    Entry("softmax", "probabilities over classes; for multi-class classification"),
    Entry("tanh", "TF Playground's: an output in (-1, 1) against labels −1/+1 (one output per class, "
                  "+1 for its class, when there are more than two); with a distance loss (mse, mae, huber, half_squared)"),
)

def _init(name: str, summary: str, variance: str, suits: str, *, bias: str = "0", scale: str | None = None) -> Entry:
    # bias: the value every bias starts at (initialisation draws the weights only)
    return Entry(name, summary, {"variance": variance, "suits": suits, "bias": bias, **({"scale": scale} if scale else {})})


INITS = _table(
    _init("zeros", "every weight 0: all hidden units stay identical (the symmetry problem)", "0", "nothing (a lesson)"),
    _init("normal", "N(0, init_std²) with model.init_std", "init_std²",
          "shallow nets; small std vanishes when deep", scale="init_std"),
    _init("uniform", "U(-a, a) with a = √3·init_std (same variance as normal)", "init_std²", "shallow nets",
          scale="init_std"),
    _init("xavier_uniform", "Glorot: U(±√(6/(fan_in+fan_out)))", "2/(fan_in+fan_out)", "tanh, sigmoid"),
    _init("xavier_normal", "Glorot: N(0, 2/(fan_in+fan_out))", "2/(fan_in+fan_out)", "tanh, sigmoid"),
    _init("he_uniform", "Kaiming: U(±√(6/fan_in))", "2/fan_in", "relu and its family"),
    _init("he_normal", "Kaiming: N(0, 2/fan_in)", "2/fan_in", "relu and its family"),
    _init("lecun_normal", "N(0, 1/fan_in)", "1/fan_in", "selu, tanh"),
    _init("orthogonal", "a random orthogonal matrix (Saxe et al.)", "1/fan_in (rows orthonormal)",
          "deep nets, any activation"),
    _init("playground", "TF Playground's: every weight U(-0.5, 0.5), every bias 0.1", "1/12",
          "TF Playground's small networks (its classic numbers)", bias="0.1"),
)

def _optimizer(name: str, summary: str, torch_name: str, *, adaptive: str, momentum: str, high_rate: str,
               decay: str = "coupled", lecture: str = "yes", usual_momentum: str | None = None) -> Entry:
    usual = usual_momentum or ("0.9" if momentum != "no" else "0")
    return Entry(name, summary, {"torch": torch_name, "adaptive": adaptive, "momentum": momentum,
                                 "usual momentum": usual, "decay": decay, "lecture": lecture, "high rate": high_rate})


# momentum: how train.momentum enters (momentum coefficient, Adam's β1, or not at all), and
# usual momentum: the value train.momentum: null stands for;
# decay: how train.l2 enters (coupled: the gradient of l2·Σw²; decoupled: AdamW's w ← w − lr·l2·w);
# lecture: one of the lecture's classic optimisers (the optimiser race shows those);
# high rate: a learning rate from which training often diverges or stalls at chance level.
OPTIMIZERS = _table(
    _optimizer("sgd", "plain (stochastic) gradient descent: w ← w − α∇", "SGD",
               adaptive="no", momentum="no", high_rate="0.1"),
    _optimizer("momentum", "SGD with heavy-ball momentum (train.momentum)", "SGD(momentum)",
               adaptive="no", momentum="coefficient", high_rate="0.1"),
    _optimizer("nesterov", "SGD with Nesterov momentum (train.momentum)", "SGD(nesterov=True)",
               adaptive="no", momentum="coefficient", high_rate="0.1"),
    _optimizer("adagrad", "per-weight rate shrinks with the sum of squared gradients", "Adagrad",
               adaptive="yes", momentum="no", high_rate="0.5"),
    _optimizer("rmsprop", "per-weight rate from a moving average of squared gradients (+ train.momentum)",
               "RMSprop", adaptive="yes", momentum="coefficient", high_rate="0.01", usual_momentum="0"),
    _optimizer("adadelta", "RMSProp with unit-correcting update ratio; lr ≈ 1 is usual", "Adadelta",
               adaptive="yes", momentum="no", high_rate="10"),
    _optimizer("adam", "momentum + RMSProp with bias correction (β1 = train.momentum)", "Adam",
               adaptive="yes", momentum="beta1", high_rate="0.01"),
    _optimizer("adamw", "Adam with decoupled weight decay (train.l2 is the decay)", "AdamW",
               adaptive="yes", momentum="beta1", high_rate="0.01", decay="decoupled", lecture="no"),
    _optimizer("nadam", "Adam with Nesterov momentum (β1 = train.momentum)", "NAdam",
               adaptive="yes", momentum="beta1", high_rate="0.01", lecture="no"),
)

SCHEDULES = _table(
    Entry("constant", "lr stays at train.learning_rate", {"formula": "lr0"}),
    Entry("linear", "linear decay to end_factor·lr0 over `steps` epochs, then constant (the lecture's)",
          {"formula": "lr0·(1 + (end_factor−1)·min(t, steps)/steps)", "torch": "LinearLR"}),
    Entry("step", "multiply by gamma every step_size epochs", {"formula": "lr0·gamma^⌊t/step_size⌋", "torch": "StepLR"}),
    Entry("exponential", "multiply by gamma every epoch", {"formula": "lr0·gamma^t", "torch": "ExponentialLR"}),
    Entry("time_based", "lr0 / (1 + decay·t)", {"formula": "lr0/(1+decay·t)", "torch": "LambdaLR"}),
    Entry("cosine", "cosine from lr0 to min_lr over `steps` epochs (default: all)",
          {"formula": "min_lr + (lr0−min_lr)(1+cos(πt/steps))/2", "torch": "CosineAnnealingLR"}),
    Entry("warmup", "linear warm-up from start_factor·lr0 to lr0 over `steps` epochs, then constant",
          {"formula": "lr0·(start_factor + (1−start_factor)·min(t, steps)/steps)", "torch": "LinearLR"}),
    Entry("plateau", "multiply by factor when dev loss has not improved for `patience` epochs",
          {"adaptive": "yes", "torch": "ReduceLROnPlateau", "watches": "dev_loss"}),
    Entry("bold_driver", "grow by `increase` while train loss falls, cut by `decrease` when it rises",
          {"adaptive": "yes", "torch": "(none: neuralab's own)", "watches": "train_loss"}),
    Entry("warmup_cosine", "linear warm-up from 0 over `warmup_steps`, then cosine to min_lr until `steps` "
          "(default: all); the language-model schedule (nanoGPT's)",
          {"formula": "lr0·(t+1)/(warmup_steps+1), then min_lr + (lr0−min_lr)(1+cos(π(t−w)/(steps−w)))/2",
           "torch": "LambdaLR"}),
)

LOSSES = _table(
    Entry("auto", "regression → mse, classification → cross_entropy (bce when binary); half_squared with a tanh output"),
    Entry("mse", "mean squared error; on probabilities (or the tanh output) for classification", {"task": "any"}),
    Entry("half_squared", "TF Playground's: ½(o − t)² summed over the outputs, averaged over the points "
                          "(half of mse for one output)", {"task": "any"}),
    Entry("mae", "mean absolute error", {"task": "any"}),
    Entry("huber", "squared near 0, absolute far away (delta = 1)", {"task": "any"}),
    Entry("bce", "binary cross-entropy on the sigmoid output", {"task": "binary", "family": "cross-entropy"}),
    Entry("cross_entropy", "categorical cross-entropy on the softmax output",
          {"task": "classification", "family": "cross-entropy"}),
    Entry("hinge", "max(0, 1 − y·f(x)); multi-class margin loss above two classes", {"task": "classification"}),
)


def _data(name: str, summary: str, kind: str, task: str, size: str, *, data_kind: str = "tabular",
          classes: str = "fixed", playground: str = "no", path: str = "no") -> Entry:
    # data kind: which loader makes the data and which model kinds learn from them (tabular, sequence, text);
    # classes: "n_classes" where data.n_classes sets the number of classes; playground: one of TF Playground's six;
    # path: whether data.path is "required", "optional" (a file instead of the generator) or not read ("no");
    # points: what data.n_samples defaults to (generated points: TF Playground's 500 to classify, 1,200 to regress)
    points = {"points": "1200" if task == "regression" else "500"} if size == "n_samples" and \
        data_kind == "tabular" else {}
    return Entry(name, summary, {"kind": kind, "task": task, "size": size, "data kind": data_kind,
                                 "classes": classes, "playground": playground, "path": path, **points})


DATASETS = _table(
    _data("circle", "inner disc vs outer ring (TF Playground's)", "synthetic 2-D", "binary", "n_samples",
          playground="yes"),
    _data("xor", "quadrant signs x1·x2 (TF Playground's)", "synthetic 2-D", "binary", "n_samples",
          playground="yes"),
    _data("gauss", "two Gaussian blobs (TF Playground's); n_classes blobs", "synthetic 2-D", "binary", "n_samples",
          classes="n_classes", playground="yes"),
    _data("spiral", "interleaved spiral arms (TF Playground's); n_classes arms", "synthetic 2-D", "binary",
          "n_samples", classes="n_classes", playground="yes"),
    _data("moons", "two interleaving half circles (scikit-learn's)", "synthetic 2-D", "binary", "n_samples"),
    _data("plane", "a tilted plane (TF Playground's)", "synthetic 2-D", "regression", "n_samples",
          playground="yes"),
    _data("multi_gauss", "six Gaussian bumps (TF Playground's)", "synthetic 2-D", "regression", "n_samples",
          playground="yes"),
    _data("digits", "8×8 handwritten digits (scikit-learn)", "bundled", "10 classes", "1,797 × 64"),
    _data("iris", "iris flowers (scikit-learn)", "bundled", "3 classes", "150 × 4"),
    _data("wine", "wine cultivars (scikit-learn)", "bundled", "3 classes", "178 × 13"),
    _data("breast_cancer", "Wisconsin breast cancer (scikit-learn)", "bundled", "binary", "569 × 30"),
    _data("diabetes", "diabetes progression (scikit-learn)", "bundled", "regression", "442 × 10"),
    _data("csv", "a CSV file: data.path, data.target", "file", "auto", "file", path="required"),
    _data("parquet", "a Parquet file: data.path, data.target", "file", "auto", "file", path="required"),
    _data("adding", "the adding problem (Hochreiter & Schmidhuber 1997): the sum of the two marked values "
          "of T random numbers; memoryless baseline MSE 1/6", "sequence task", "regression", "n_samples × T",
          data_kind="sequence"),
    _data("copy", "copy memory: repeat 10 symbols after a gap of T blanks; memoryless baseline "
          "10·ln 8 / (T + 20) nats", "sequence task", "10 classes per step", "n_samples × (T + 20)",
          data_kind="sequence"),
    _data("sine", "a noisy sine wave (data.noise), or a numeric CSV column (data.path, data.target): "
          "forecast the next value from the last T", "sequence task", "regression", "n_samples × T",
          data_kind="sequence", path="optional"),
    _data("shakespeare", "tiny Shakespeare (bundled; 1,115,394 characters, 65 distinct): a character-level "
          "language model", "text", "next character", "1.1 M characters", data_kind="text"),
    _data("text", "any UTF-8 text file (data.path): a character-level language model", "text",
          "next character", "file", data_kind="text", path="required"),
)

FEATURES = _table(
    Entry("x1", "first input"), Entry("x2", "second input"),
    Entry("x1^2", "x1 squared"), Entry("x2^2", "x2 squared"),
    Entry("x1*x2", "product of the inputs"),
    Entry("sin(x1)", "sine of x1"), Entry("sin(x2)", "sine of x2"),
)

L1_STYLES = _table(
    Entry("penalty", "l1·Σ|w| added to the training objective: its subgradient l1·sign(w) joins every step",
          {"population": "yes"}),
    Entry("playground", "TF Playground's: after the optimiser's step, w ← w − lr·l1·sign(w_before); a weight "
                        "this carries across zero is set to 0 and stays 0 (dead) for the rest of the run",
          {"population": "no"}),
)

# family: recurrent kinds read sequences step by step (settings in model.recurrent);
# grad clip: the norm train.grad_clip "auto" stands for ("off": no clipping).
MODEL_KINDS = _table(
    Entry("mlp", "multi-layer perceptron: fully connected layers (model.hidden, model.activation)",
          {"data": "tabular", "family": "feed-forward", "population": "yes", "grad clip": "off"}),
    Entry("rnn", "Elman recurrent network, h_t = g(W x_t + U h_t-1 + b) with tanh or relu (torch.nn.RNN); "
          "its gradients vanish or explode through time", {"data": "sequence, text", "family": "recurrent",
                                                          "population": "no", "grad clip": "1.0"}),
    Entry("lstm", "long short-term memory (torch.nn.LSTM): a gated cell state carries gradients through time; "
          "forget-gate bias model.recurrent.forget_bias", {"data": "sequence, text", "family": "recurrent",
                                                           "population": "no", "grad clip": "1.0"}),
    Entry("gru", "gated recurrent unit (torch.nn.GRU): LSTM's gating with one state and fewer weights",
          {"data": "sequence, text", "family": "recurrent", "population": "no", "grad clip": "1.0"}),
    Entry("transformer", "GPT-style transformer (model.transformer): causal self-attention for language models, "
          "an encoder with mean pooling for one prediction per sequence",
          {"data": "sequence, text", "family": "attention", "population": "no", "grad clip": "1.0"}),
)

TOKENIZERS = _table(
    Entry("char", "one token per character of the corpus (the vocabulary is its distinct characters)",
          {"vocabulary": "the text's characters"}),
    Entry("bpe", "byte-level byte-pair encoding trained on the corpus with the `tokenizers` library "
          "(data.vocab_size tokens: 256 bytes + merges)", {"vocabulary": "data.vocab_size"}),
)

TABLES: dict[str, dict[str, Entry]] = {
    "model_kinds": MODEL_KINDS,
    "activations": ACTIVATIONS,
    "output_activations": OUTPUT_ACTIVATIONS,
    "inits": INITS,
    "optimizers": OPTIMIZERS,
    "schedules": SCHEDULES,
    "losses": LOSSES,
    "datasets": DATASETS,
    "features": FEATURES,
    "tokenizers": TOKENIZERS,
    "l1_styles": L1_STYLES,
}

SYNTHETIC_DATASETS = tuple(n for n, e in DATASETS.items() if e.properties["kind"] == "synthetic 2-D")
BUNDLED_DATASETS = tuple(n for n, e in DATASETS.items() if e.properties["kind"] == "bundled")
FILE_DATASETS = ("csv", "parquet")
NEEDS_PATH = tuple(n for n, e in DATASETS.items() if e.properties["path"] == "required")
RECURRENT_KINDS = tuple(n for n, e in MODEL_KINDS.items() if e.properties["family"] == "recurrent")
ATTENTION_KINDS = tuple(n for n, e in MODEL_KINDS.items() if e.properties["family"] == "attention")
# optimisers that read train.momentum (as momentum or as Adam's β1); the others ignore it
MOMENTUM_OPTIMIZERS = tuple(n for n, e in OPTIMIZERS.items() if e.properties["momentum"] != "no")


def names(table: str) -> tuple[str, ...]:
    """Return the names of one table (``activations``, ``optimizers``, ...) in order."""
    return tuple(TABLES[table])


def family(table: str, prop: str, *values: str) -> tuple[str, ...]:
    """The names of ``table`` whose property ``prop`` is one of ``values``, in catalog order.

    Every family of names (optimisers with momentum, saturating activations, regression
    data sets…) is derived here from the catalog's properties, never re-listed elsewhere.

    Example:
        >>> family("optimizers", "momentum", "coefficient")
        ('momentum', 'nesterov', 'rmsprop')
    """
    return tuple(name for name, entry in TABLES[table].items() if entry.properties.get(prop) in values)
