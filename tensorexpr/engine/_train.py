"""Training networks on labelled sequences: compiled epochs of Keras Adam steps.

A :class:`NetworkTrainer` holds TensorFlow variables for the network and its feature map, a
``keras.optimizers.Adam`` and one compiled epoch (a ``tf.while_loop`` over mini-batches, so
Python is entered once per epoch). Trainers are cached per shape (bounded, see ``_cache``)
and reused: a fit loads its values into the variables, runs epochs and reads them back.

Under a ``tf.distribute`` strategy (a trainer built with ``strategy=``) the variables and
Adam's slots are mirrored on its replicas, and every mini-batch is split over them: each
replica differentiates its shard's share of the batch loss and Keras's Adam sums the
replicas' gradients, so the step is the single-device step up to rounding.
"""

from __future__ import annotations

import numpy as np

from .._tensorflow import import_tensorflow
from ..features import PARAM_PREFIX, FeatureMap, prefixed
from ._cache import cached
from ._evaluate import member_scores, scores
from ._forms import feature_form
from ._spec import NetworkSpec, param_names, param_shapes

__all__ = [
    "LOSSES",
    "NetworkTrainer",
    "bucket",
    "feature_key",
    "network_trainer",
    "scores_function",
]

#: "binary": sigmoid cross-entropy of one score; "multiclass": softmax cross-entropy;
#: "squared": half the squared error.
LOSSES = ("binary", "multiclass", "squared")

#: Adam's epsilon for the estimators (scikit-learn's MLP uses the same).
ADAM_EPSILON = 1e-8

#: exp(L) of the log-scale state is clipped here in the loss: it only guards float32.
_LOG_CLIP = 60.0


def bucket(n: int) -> int:
    """The smallest of 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, ... (four sizes an octave)
    that holds ``n``: the padded length of an axis of the XLA-compiled epoch's inputs.

    XLA compiles one program per concrete shape. Padding the number of samples, of
    mini-batches and a short mini-batch to these sizes lets fits on 50, 53 or 60 samples
    share one compiled epoch, for at most a quarter more rows than the data has.
    """
    n = max(int(n), 1)
    if n <= 8:
        return 8
    step = 1 << (n.bit_length() - 3)  # a quarter of the octave's lower end
    return -(-n // step) * step


def feature_key(feature_map: FeatureMap) -> tuple:
    """What a compiled function depends on in a feature map: its class and shapes."""
    fixed = tuple(
        (k, v) for k, v in sorted(feature_map.get_params().items()) if not isinstance(v, np.ndarray)
    )
    shapes = tuple((k, v.shape) for k, v in sorted(feature_map.trainable_params().items()))
    return (type(feature_map).__name__, fixed, shapes)


def _features(feature_map, fparams, X, keep=None):
    """f(x_k) for every position; a dropped position (keep = 0) sees the constant feature only."""
    tf = import_tensorflow()
    F = feature_form(feature_map, X, fparams)
    if keep is not None:
        const = tf.one_hot(feature_map.constant_index, feature_map.n_features, dtype=F.dtype)
        keep = tf.expand_dims(keep, 2)
        F = keep * F + (1.0 - keep) * const
    return F


def scores_function(spec: NetworkSpec, feature_map: FeatureMap, dtype: str):
    """Compiled ``(network params, feature params, X) -> (v, L)`` (see :func:`scores`)."""
    names = param_names(spec)
    fnames = sorted(feature_map.trainable_params())

    def build():
        tf = import_tensorflow()

        # one trace per network: fixed parameter shapes, any number of rows (without a
        # signature every new batch size traced again, and TensorFlow warned of retracing)
        tf_dtype = getattr(tf, dtype)
        shapes = param_shapes(spec)
        fshapes = feature_map.trainable_params()
        signature = [
            [tf.TensorSpec(shapes[k], tf_dtype) for k in names],
            [tf.TensorSpec(fshapes[k].shape, tf_dtype) for k in fnames],
            tf.TensorSpec([None, spec.d, feature_map.n_inputs], tf_dtype),
        ]

        @tf.function(input_signature=signature, autograph=False)
        def run(params, fparams, X):
            F = _features(feature_map, dict(zip(fnames, fparams, strict=True)), X)
            return scores(spec, dict(zip(names, params, strict=True)), F)

        return run

    return cached(("scores", spec, feature_key(feature_map), dtype), build)


def _per_sample_loss(tf, loss: str, z, y):
    if loss == "binary":
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z[:, 0])
    if loss == "multiclass":
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(y, tf.int32), logits=z)
    return 0.5 * tf.square(z[:, 0] - y)


class NetworkTrainer:
    """Variables, optimizer and compiled epoch for one network shape, loss and dtype.

    Parameters
    ----------
    spec : NetworkSpec
    feature_map : FeatureMap
        Its :meth:`~tensorexpr.FeatureMap.trainable_params` are trained with the network.
    loss : {"binary", "multiclass", "squared"}
    use_dropout : bool
        Whether the epoch drops positions (needs a feature map with a constant feature).
    dtype : {"float32", "float64"}
    jit : bool
        Compile the epoch with XLA (not under a strategy).
    strategy : tf.distribute.Strategy, optional
        Mirror the variables on its replicas and split every mini-batch over them.
    """

    def __init__(
        self,
        spec,
        feature_map,
        loss: str,
        use_dropout: bool,
        dtype: str,
        jit: bool,
        strategy=None,
    ):
        import contextlib

        tf = import_tensorflow()  # first: keras imports TensorFlow itself
        import keras

        self.spec, self.feature_map, self.loss = spec, feature_map, loss
        self.jit = jit and strategy is None
        self.dtype = getattr(tf, dtype)
        self.names = param_names(spec)
        self.fnames = sorted(feature_map.trainable_params())
        self.strategy = strategy
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            self.variables = [
                tf.Variable(tf.zeros(self._shapes()[k], self.dtype), name=k.replace(".", "_"))
                for k in self.names + self._fnames_full()
            ]
            self.optimizer = keras.optimizers.Adam(epsilon=ADAM_EPSILON)
            self.optimizer.build(self.variables)
        if strategy is None:
            self._epoch = self._compile_epoch(tf, use_dropout)
        else:
            self._step = self._compile_distributed_step(tf, use_dropout, strategy)

    def _shapes(self) -> dict:
        """The shapes of the network's parameters (its layout's) and the feature map's."""
        shapes = param_shapes(self.spec)
        fshapes = {k: v.shape for k, v in self.feature_map.trainable_params().items()}
        return {**shapes, **prefixed(fshapes)}

    def _forward(self, X, keep=None):
        n = len(self.names)
        fparams = dict(zip(self.fnames, self.variables[n:], strict=True))
        F = _features(self.feature_map, fparams, X, keep)
        params = dict(zip(self.names, self.variables[:n], strict=True))
        if self.spec.members > 1:  # each member's own scores: each is trained on its loss
            return member_scores(self.spec, params, F)
        return scores(self.spec, params, F)

    def _weighted_loss(self, tf, X, y, w, keep):
        """``sum_i w_i loss_i`` over a batch (``keep``: the dropout mask, or None); with
        several members, the mean over the members of each member's loss."""
        v, L = self._forward(X, keep)
        z = v * tf.expand_dims(tf.exp(tf.minimum(L, _LOG_CLIP)), -1)
        K = self.spec.members
        if K > 1:  # (K, batch, C) -> (K * batch, C) against the targets repeated
            z = tf.reshape(z, [-1, tf.shape(z)[-1]])
            y, w = tf.tile(y, [K]), tf.tile(w, [K]) / K
        return tf.reduce_sum(w * _per_sample_loss(tf, self.loss, z, y))

    def _penalty(self, tf):
        """The squared norm of the parameters, the members' mean for the network's."""
        n = len(self.names)
        network = tf.add_n([tf.reduce_sum(tf.square(q)) for q in self.variables[:n]])
        features = [tf.reduce_sum(tf.square(q)) for q in self.variables[n:]]
        features = tf.add_n(features) if features else 0.0
        if self.spec.member_features is not None:  # the members' own features: their mean too
            features = features / self.spec.members
        return network / self.spec.members + features

    def _compile_epoch(self, tf, use_dropout: bool):
        jit = self.jit

        def step(X, y, w, alpha, dropout, seed):
            keep = _keep_mask(tf, X, dropout, seed) if use_dropout else None
            with tf.GradientTape() as tape:
                weight = tf.reduce_sum(w)
                data = self._weighted_loss(tf, X, y, w, keep) / tf.maximum(weight, 1e-12)
                total = data + 0.5 * alpha * self._penalty(tf)
            grads = tape.gradient(total, self.variables)
            self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
            return data * weight

        # XLA compiles per concrete shape anyway: no relaxed traces under jit
        @tf.function(reduce_retracing=not jit, autograph=False, jit_compile=jit)
        def epoch(X, y, batches, batch_weights, n_steps, alpha, dropout, seed):
            def body(i, total):
                idx = batches[i]
                step_seed = seed + tf.cast(tf.stack([0, i]), seed.dtype)
                with tf.control_dependencies([total]):
                    loss_i = step(
                        tf.gather(X, idx),
                        tf.gather(y, idx),
                        batch_weights[i],
                        alpha,
                        dropout,
                        step_seed,
                    )
                return i + 1, total + loss_i

            zero = tf.zeros([], X.dtype)
            _, total = tf.while_loop(lambda i, _: i < n_steps, body, (tf.constant(0), zero))
            return total

        return epoch

    def _compile_distributed_step(self, tf, use_dropout: bool, strategy):
        """One mini-batch, the same one (and dropout mask) as the single-device epoch's,
        padded with weight-0 samples to a multiple of the replicas and cut into shards."""
        replicas = strategy.num_replicas_in_sync

        def replica_step(X, y, w, keep, weight, alpha):
            context = tf.distribute.get_replica_context()
            size = tf.shape(X)[0] // replicas
            start = context.replica_id_in_sync_group * size

            def shard(t):
                return t[start : start + size]

            with tf.GradientTape() as tape:
                kept = shard(keep) if use_dropout else None
                data = self._weighted_loss(tf, shard(X), shard(y), shard(w), kept)
                # Adam sums the replicas' gradients: each adds its share of the batch mean
                total = data / weight + 0.5 * alpha * self._penalty(tf) / replicas
            grads = tape.gradient(total, self.variables)
            self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
            return data

        @tf.function(autograph=False)
        def step(X, y, w, alpha, dropout, seed):
            keep = _keep_mask(tf, X, dropout, seed)
            pad = (-tf.shape(X)[0]) % replicas
            X, y, w, keep = (
                tf.concat([t, tf.zeros(tf.concat([[pad], tf.shape(t)[1:]], 0), t.dtype)], 0)
                for t in (X, y, w, keep)
            )
            weight = tf.maximum(tf.reduce_sum(w), 1e-12)
            per_replica = strategy.run(replica_step, args=(X, y, w, keep, weight, alpha))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        return step

    def _run_distributed_epoch(self, X, y, batches, batch_weights, alpha, dropout, seed):
        tf = import_tensorflow()
        total = 0.0
        for i in range(batches.shape[0]):
            idx = tf.constant(batches[i], tf.int32)
            total += float(
                self._step(
                    tf.gather(X, idx),
                    tf.gather(y, idx),
                    tf.constant(batch_weights[i], self.dtype),
                    alpha,
                    dropout,
                    seed + tf.constant([0, i], tf.int64),  # the single-device epoch's seeds
                )
            )
        return total

    # -- state in and out ---------------------------------------------------------------------
    def load(self, params: dict, optimizer_state: list | None, learning_rate: float) -> None:
        """Set the variables from ``params`` (network and ``feature_map.*`` arrays) and the
        optimizer from ``optimizer_state`` (a fresh Adam when None)."""
        for var, name in zip(self.variables, self.names + self._fnames_full(), strict=True):
            var.assign(np.asarray(params[name]))
        slots = self._optimizer_slots()
        if optimizer_state is None:
            self.optimizer.iterations.assign(0)
            for var in slots:
                var.assign(np.zeros(var.shape))
        else:
            self.optimizer.iterations.assign(int(optimizer_state[0]))
            for var, value in zip(slots, optimizer_state[1:], strict=True):
                var.assign(value)
        self.set_learning_rate(learning_rate)

    def set_learning_rate(self, learning_rate: float) -> None:
        """Adam's step size from the next step on (the moments and the step count stay)."""
        self.optimizer.learning_rate.assign(learning_rate)

    def _fnames_full(self) -> list[str]:
        return [PARAM_PREFIX + k for k in self.fnames]

    def _optimizer_slots(self) -> list:
        skip = {id(self.optimizer.iterations), id(self.optimizer.learning_rate)}
        return [v for v in self.optimizer.variables if id(v) not in skip]

    def params(self) -> dict[str, np.ndarray]:
        """The current values (float64 numpy), network and ``feature_map.*``."""
        names = self.names + self._fnames_full()
        return {k: v.numpy().astype(np.float64) for k, v in zip(names, self.variables, strict=True)}

    def optimizer_state(self) -> list:
        """Adam's step count and moments, to continue later (:meth:`load`)."""
        return [int(self.optimizer.iterations.numpy())] + [
            v.numpy() for v in self._optimizer_slots()
        ]

    def constants(self, X, y):
        """``X`` and ``y`` as tensors of the trainer's dtype, the training set of
        :meth:`run_epoch`. Under XLA they are padded with zero rows to :func:`bucket`
        ``(len(X))`` rows (never indexed by a mini-batch), so that fits on nearby numbers
        of samples run the same compiled epoch."""
        tf = import_tensorflow()
        X, y = np.asarray(X), np.asarray(y)
        if self.jit:
            pad = bucket(len(X)) - len(X)
            X = np.concatenate([X, np.zeros((pad,) + X.shape[1:], X.dtype)])
            y = np.concatenate([y, np.zeros((pad,) + y.shape[1:], y.dtype)])
        return tf.constant(X, self.dtype), tf.constant(y, self.dtype)

    def run_epoch(self, X, y, batches, batch_weights, alpha, dropout, seed) -> float:
        """One pass over the mini-batches (rows of ``batches``: indices into ``X``, with
        their sample weights); returns the sum of weight * loss.

        Under XLA the mini-batches are padded to :func:`bucket` sizes, both their number
        (rows that the loop never reaches) and, for a short batch, their length (index 0
        with weight 0, which adds nothing to a loss normalised by the batch's weight).
        """
        tf = import_tensorflow()
        batches, batch_weights = np.asarray(batches), np.asarray(batch_weights)
        n_steps = batches.shape[0]
        if self.strategy is not None:
            return self._run_distributed_epoch(
                X,
                y,
                np.asarray(batches),
                np.asarray(batch_weights),
                tf.constant(alpha, self.dtype),
                tf.constant(dropout, self.dtype),
                tf.constant(seed, tf.int64),
            )
        if self.jit:
            shape = (bucket(batches.shape[0]), bucket(batches.shape[1]))
            padded = np.zeros(shape, batches.dtype), np.zeros(shape, batch_weights.dtype)
            for full, part in zip(padded, (batches, batch_weights), strict=True):
                full[: part.shape[0], : part.shape[1]] = part
            batches, batch_weights = padded
        return float(
            self._epoch(
                X,
                y,
                tf.constant(batches, tf.int32),
                tf.constant(batch_weights, self.dtype),
                tf.constant(n_steps, tf.int32),
                tf.constant(alpha, self.dtype),
                tf.constant(dropout, self.dtype),
                tf.constant(seed, tf.int64),
            )
        )


def network_trainer(
    spec: NetworkSpec,
    feature_map: FeatureMap,
    loss: str,
    use_dropout: bool,
    dtype: str,
    jit: bool,
    strategy=None,
) -> NetworkTrainer:
    """The cached :class:`NetworkTrainer` of this shape (built on first use).

    ``strategy``: a ``tf.distribute.Strategy`` to train under (one trainer per strategy).
    """
    import threading

    jit = jit and strategy is None
    # one trainer per thread: fits running at once in threads (joblib's threading backend,
    # a Dask worker with several threads) must not share variables
    thread = threading.get_ident()
    key = ("trainer", spec, feature_key(feature_map), loss, use_dropout, dtype, jit, strategy)
    key += (thread,)
    return cached(
        key, lambda: NetworkTrainer(spec, feature_map, loss, use_dropout, dtype, jit, strategy)
    )


def _keep_mask(tf, X, dropout, seed):
    """0/1 mask of kept positions, P(0) = dropout, from a stateless seed (reproducible)."""
    draw = tf.random.stateless_uniform(tf.shape(X)[:2], seed, dtype=X.dtype)
    return tf.cast(draw >= dropout, X.dtype)
