"""Child process for the Keras LSTM contender: KERAS_BACKEND=torch must be set before import."""
import sys
import time

import numpy as np

arrays, hidden, layers, embedding, vocab, epochs, batch_size, learning_rate, clip, threads = sys.argv[1:11]
import torch  # noqa: E402

torch.set_num_threads(int(threads))
import keras  # noqa: E402

data = np.load(arrays)
keras.utils.set_random_seed(0)
hidden, layers, vocab = int(hidden), int(layers), int(vocab)
text = vocab > 0
stack = [keras.Input(shape=data["x_train"].shape[1:])]
if text:
    stack.append(keras.layers.Embedding(vocab, int(embedding)))
for index in range(layers):
    stack.append(keras.layers.LSTM(hidden, return_sequences=text or index < layers - 1))
stack.append(keras.layers.Dense(vocab if text else 1))
model = keras.Sequential(stack)
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True) if text else keras.losses.MeanSquaredError()
model.compile(optimizer=keras.optimizers.Adam(float(learning_rate), global_clipnorm=float(clip)), loss=loss)
started = time.perf_counter()
model.fit(data["x_train"], data["y_train"], batch_size=int(batch_size), epochs=int(epochs), verbose=0, shuffle=True)
seconds = time.perf_counter() - started
print(seconds, float(model.evaluate(data["x_test"], data["y_test"], verbose=0, batch_size=256)))
