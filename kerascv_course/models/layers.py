"""Custom layers of the zoo, each a small registered-serializable class (no ``Lambda``).

Every class here is registered with ``keras.saving.register_keras_serializable`` under the package
``kerascv_course`` and implements ``get_config``, so ``.keras`` files load with ``safe_mode=True``.
Importing this module registers them all (what loading a saved model needs; no builder is imported).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kerascv_course.models.catalog import PERCEPTRON_THRESHOLD_UNTRAINABLE

PACKAGE = "kerascv_course"


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels (Krizhevsky et al., 2012, §3.3).

    ``b = a / (k + alpha * sum_{j in window} a_j^2) ** beta`` with a window of ``size`` adjacent
    channels. The paper's values are the defaults: ``size=5, k=2, alpha=1e-4, beta=0.75``.
    Converts to the TFLite ``LOCAL_RESPONSE_NORMALIZATION`` op.
    """

    def __init__(
        self, size: int = 5, k: float = 2.0, alpha: float = 1e-4, beta: float = 0.75, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(size, int) or size < 1 or size % 2 == 0:
            raise ValueError(f"`size` must be a positive odd integer. Received: size={size!r}")
        self.size, self.k, self.alpha, self.beta = size, float(k), float(alpha), float(beta)

    def call(self, inputs: Any) -> Any:
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.size // 2, bias=self.k, alpha=self.alpha, beta=self.beta
        )

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": self.size,
            "k": self.k,
            "alpha": self.alpha,
            "beta": self.beta,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class TrainableSubsampling(keras.layers.Layer):
    """LeNet-5's subsampling layers S2/S4 (LeCun et al., 1998, §II.B).

    Sums each non-overlapping 2x2 window, multiplies by a trainable coefficient per map and adds a
    trainable bias per map (2 parameters per feature map); the activation is applied after it.
    """

    def __init__(self, pool_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = pool_size

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1]
        self.coefficient = self.add_weight(
            name="coefficient", shape=(channels,), initializer="ones"
        )
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros")

    def call(self, inputs: Any) -> Any:
        p = self.pool_size
        pooled = tf.nn.avg_pool2d(inputs, ksize=p, strides=p, padding="VALID") * float(p * p)
        return pooled * self.coefficient + self.bias

    def compute_output_shape(self, input_shape: Any) -> Any:
        b, h, w, c = input_shape
        p = self.pool_size
        return (b, None if h is None else h // p, None if w is None else w // p, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size}


# LeNet-5's C3 connection table (LeCun et al., 1998, Table I): the S2 maps each C3 map reads.
LENET_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConnectionTableConv2D(keras.layers.Layer):
    """A valid convolution in which output map ``j`` reads only the input maps ``table[j]``.

    LeNet-5's C3 layer: 60 connections of 5x5 kernels plus 16 biases = 1,516 parameters. Only the
    connected kernels are stored (no masked full kernel), so ``count_params`` is the paper's figure.
    Implemented as a depthwise convolution over the gathered input maps followed by a fixed 0/1
    matrix that sums each output map's connections.
    """

    def __init__(
        self,
        table: Any = LENET_C3_TABLE,
        kernel_size: int = 5,
        activation: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.table = tuple(tuple(int(i) for i in row) for row in table)
        self.kernel_size = kernel_size
        self.activation = keras.activations.get(activation)
        self._sources = [i for row in self.table for i in row]
        select = np.zeros((len(self._sources), len(self.table)), np.float32)
        col = 0
        for j, row in enumerate(self.table):
            select[col : col + len(row), j] = 1.0
            col += len(row)
        self._select = select

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1]
        if max(self._sources) >= channels:
            raise ValueError(
                f"The connection table reads map {max(self._sources)} but the input has "
                f"{channels} channels. Received: input_shape={input_shape}"
            )
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel", shape=(k, k, len(self._sources), 1), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(len(self.table),), initializer="zeros")

    def call(self, inputs: Any) -> Any:
        gathered = tf.gather(inputs, self._sources, axis=-1)
        per_connection = tf.nn.depthwise_conv2d(
            gathered, self.kernel, strides=(1, 1, 1, 1), padding="VALID"
        )
        out = tf.linalg.matmul(per_connection, tf.constant(self._select)) + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape: Any) -> Any:
        b, h, w, _ = input_shape
        k = self.kernel_size
        return (
            b,
            None if h is None else h - k + 1,
            None if w is None else w - k + 1,
            len(self.table),
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "table": [list(row) for row in self.table],
            "kernel_size": self.kernel_size,
            "activation": keras.activations.serialize(self.activation),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class RBFOutput(keras.layers.Layer):
    """LeNet-5's Euclidean radial-basis-function output layer (LeCun et al., 1998, §II.B).

    ``y_i = sum_j (x_j - w_ij)^2``, with fixed prototype vectors ``w_i`` of +1/-1 entries (the paper
    drew them as 7x12 bitmaps; here they are a seeded random ±1 code, not trained). The layer
    returns ``-y`` so that a larger output means a closer class and softmax / logits losses apply.
    """

    def __init__(self, units: int, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.seed = units, seed

    def build(self, input_shape: Any) -> None:
        rng = np.random.default_rng(self.seed)
        codes = rng.choice([-1.0, 1.0], size=(input_shape[-1], self.units)).astype("float32")
        self.prototypes = self.add_weight(
            name="prototypes",
            shape=codes.shape,
            initializer=keras.initializers.Constant(codes),
            trainable=False,
        )

    def call(self, inputs: Any) -> Any:
        x = tf.expand_dims(inputs, -1)
        return -tf.reduce_sum(tf.square(x - self.prototypes), axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ScaledTanh(keras.layers.Layer):
    """LeCun's squashing function ``A * tanh(S * a)`` with ``A = 1.7159, S = 2/3`` (1998, App. A)."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.amplitude, self.slope = float(amplitude), float(slope)

    def call(self, inputs: Any) -> Any:
        return self.amplitude * tf.tanh(self.slope * inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "amplitude": self.amplitude, "slope": self.slope}


SIGN_NO_GRADIENT = PERCEPTRON_THRESHOLD_UNTRAINABLE


@keras.saving.register_keras_serializable(package=PACKAGE)
class Sign(keras.layers.Layer):
    """The perceptron's threshold unit: +1 where the input is >= 0, else -1 (not differentiable).

    Inference only: its gradient is zero almost everywhere, so gradient descent through it cannot
    train (Keras would stop with "No gradients provided"); called with ``training=True`` it raises
    :data:`SIGN_NO_GRADIENT` instead. Rosenblatt's own training rule is
    :class:`kerascv_course.lessons.perceptron.Perceptron`.
    """

    def call(self, inputs: Any, training: Any = None) -> Any:
        if training is True:
            raise ValueError(SIGN_NO_GRADIENT)
        return tf.where(inputs >= 0, tf.ones_like(inputs), -tf.ones_like(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class ScaledResidual(keras.layers.Layer):
    """``shortcut + scale * residual``: Inception-ResNet's scaled residual sum (Szegedy et al.,
    2016, arXiv:1602.07261, §3.3, Fig. 20).

    Computes exactly what keras.applications' ``CustomScaleLayer`` computes (``inputs[0] +
    inputs[1] * scale``, no weights), as a registered layer that loads with ``safe_mode=True``.
    Called on ``[shortcut, residual]``.
    """

    def __init__(self, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: Any) -> Any:
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DropPathSampler(keras.layers.Layer):
    """FractalNet's global drop-path draw (Larsson et al., 2016, arXiv:1605.07648, §3.1).

    Called on the network's input, it returns the ``(batch, columns)`` control tensor every
    :class:`FractalJoin` reads. In training, with probability ``global_rate`` the batch is a
    *global* batch: one column, drawn uniformly, is kept by every join of the whole network (the
    row is that column's one-hot code, the same for every image of the batch); otherwise the row is
    zeros and each join drops its inputs locally. At inference the tensor is zeros and unused.

    Args:
        columns: the number of columns ``C`` of the fractal blocks.
        global_rate: probability that a training batch uses global drop-path (0.5 in the paper:
            "a 50/50 mixture" of local and global sampling).
        seed: seed of the layer's random draws (``None``: unseeded).
    """

    def __init__(
        self, columns: int, global_rate: float = 0.5, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.columns, self.global_rate, self.seed = int(columns), float(global_rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        batch = keras.ops.shape(inputs)[0]
        if not training or self.global_rate <= 0:
            return keras.ops.zeros((batch, self.columns), dtype=self.compute_dtype)
        draw = keras.random.uniform((), seed=self.seed_generator)
        column = keras.random.randint((), 0, self.columns, seed=self.seed_generator)
        row = keras.ops.one_hot(column, self.columns) * keras.ops.cast(
            draw < self.global_rate, "float32"
        )
        row = keras.ops.cast(row, self.compute_dtype)
        return keras.ops.broadcast_to(row[None, :], (batch, self.columns))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.columns)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "columns": self.columns,
            "global_rate": self.global_rate,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class FractalJoin(keras.layers.Layer):
    """FractalNet's join: the element-wise mean of its inputs, with drop-path in training
    (Larsson et al., 2016, arXiv:1605.07648, §2 and §3.1).

    Called on ``[path_1, ..., path_n, control]``, where path ``i`` comes from fractal column
    ``columns[i]`` and ``control`` is :class:`DropPathSampler`'s output. At inference (and for a
    single path) the output is the mean of all paths. In training:

    - *local* batch (``control`` all zeros): each path is dropped with probability ``drop_rate``,
      one path drawn uniformly is kept if all were dropped, and the output is the mean of the kept
      paths (one draw per batch);
    - *global* batch (``control`` one-hot on column ``c``): the output is the path of column
      ``c``; a join that column ``c`` does not reach returns the mean (its output is not on the
      selected column's path, so it never reaches the loss).

    Args:
        columns: the column index (0-based) of each path, in the order of the inputs.
        drop_rate: local drop-path probability per input (0.15 in the paper).
        seed: seed of the layer's random draws (``None``: unseeded).
    """

    def __init__(
        self,
        columns: Any,
        drop_rate: float = 0.15,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.columns = tuple(int(c) for c in columns)
        self.drop_rate, self.seed = float(drop_rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        *paths, control = inputs
        if len(paths) != len(self.columns):
            raise ValueError(
                f"FractalJoin expects {len(self.columns)} paths (one per entry of `columns`) and "
                f"the control tensor. Received: {len(paths)} paths"
            )
        stacked = keras.ops.stack(paths, axis=0)
        if not training or len(paths) == 1:
            return keras.ops.mean(stacked, axis=0)
        n = len(paths)
        keep = keras.ops.cast(
            keras.random.uniform((n,), seed=self.seed_generator) >= self.drop_rate, "float32"
        )
        rescue = keras.ops.one_hot(keras.random.randint((), 0, n, seed=self.seed_generator), n)
        local = keras.ops.where(keras.ops.sum(keep) > 0, keep, rescue)
        row = keras.ops.cast(control[0], "float32")
        chosen = keras.ops.take(row, list(self.columns))
        global_ = keras.ops.where(keras.ops.sum(chosen) > 0, chosen, keras.ops.ones((n,)))
        weights = keras.ops.where(keras.ops.sum(row) > 0, global_, local)
        weights = keras.ops.cast(weights, stacked.dtype)
        total = keras.ops.sum(stacked * keras.ops.reshape(weights, (n, 1, 1, 1, 1)), axis=0)
        return total / keras.ops.sum(weights)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "columns": list(self.columns),
            "drop_rate": self.drop_rate,
            "seed": self.seed,
        }
