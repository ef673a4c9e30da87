"""`python -m rkeras.demo`: train a small MLP on the bundled 8×8 digits with the Keras API and
print its test accuracy."""

import time

import rkeras as keras


def main():
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 64).astype("float32") / 255.0

    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, verbose=2)
    elapsed = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f} (loss {loss:.4f}); trained in {elapsed:.2f}s "
          f"on {keras.config.get_num_threads()} threads ({keras.config.simd_path()} kernels)")


if __name__ == "__main__":
    main()
