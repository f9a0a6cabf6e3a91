"""The course's lessons that are algorithms rather than zoo models, in NumPy (no TensorFlow).

- :mod:`.perceptron`: Rosenblatt's perceptron (sign output, labels ±1, the perceptron criterion
  minimised by stochastic gradient descent), the XOR problem it cannot solve (Minsky & Papert,
  1969), and a two-layer perceptron trained by back-propagation that solves it.
"""
