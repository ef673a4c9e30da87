"""`python -m rkeras.demo`: fit a line with GradientTape, to show the core working end to end."""

import numpy as np

import rkeras
from rkeras import ops


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 1)).astype("float32")
    y = 3.0 * x - 1.0 + 0.05 * rng.normal(size=(256, 1)).astype("float32")
    w = rkeras.Variable(np.zeros((1, 1), "float32"), name="w")
    b = rkeras.Variable(np.zeros((1,), "float32"), name="b")
    xt, yt = rkeras.Tensor(x), rkeras.Tensor(y)
    for step in range(200):
        with rkeras.GradientTape() as tape:
            err = ops.subtract(ops.add(ops.matmul(xt, w), b), yt)
            loss = ops.divide(ops.sum(ops.multiply(err, err)), float(len(x)))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(gw * 0.1)
        b.assign_sub(gb * 0.1)
        if step % 50 == 0 or step == 199:
            print(f"step {step:3d}  loss {float(loss):.5f}")
    print(f"fitted y = {float(w.numpy()[0, 0]):.3f} x + {float(b.numpy()[0]):.3f} (true: 3 x - 1)")
    print(f"kernels: {rkeras.config.get_num_threads()} threads, {rkeras.config.simd_path()} path")


if __name__ == "__main__":
    main()
