"""Child process for the Keras contender: KERAS_BACKEND=torch must be set before import."""
import sys
import time

import numpy as np

arrays, hidden, epochs, batch_size, threads = sys.argv[1:6]
import torch  # noqa: E402

torch.set_num_threads(int(threads))
import keras  # noqa: E402

data = np.load(arrays)
keras.utils.set_random_seed(0)
layers = [keras.Input(shape=(data["x_train"].shape[1],))]
layers += [keras.layers.Dense(int(w), activation="relu", kernel_initializer="he_normal") for w in hidden.split(",")]
layers.append(keras.layers.Dense(int(data["y_train"].max()) + 1))
model = keras.Sequential(layers)
model.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
started = time.perf_counter()
model.fit(data["x_train"], data["y_train"], batch_size=int(batch_size), epochs=int(epochs), verbose=0, shuffle=True)
seconds = time.perf_counter() - started
accuracy = float((model.predict(data["x_test"], verbose=0).argmax(axis=1) == data["y_test"]).mean())
print(seconds, accuracy)
