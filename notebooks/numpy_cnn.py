"""The CNN of the series written from scratch in NumPy: the yardstick for every framework.

Each layer is a pair of functions kept side by side: `*_forward` returns its output and a
`cache` of what the backward pass will need; `*_backward` takes the gradient of the loss
with respect to that output and returns the gradients with respect to the layer's inputs
and parameters. Arrays are NCHW and weights are in the reference (PyTorch) layout.
"""
import numpy as np

try:
    from numpy.lib.stride_tricks import sliding_window_view
except ImportError:   # NumPy < 1.20, e.g. the Python 3.6 kernel of the CNTK post
    from numpy.lib.stride_tricks import as_strided

    def sliding_window_view(x, window_shape, axis):
        """Read-only view of every window of `window_shape` over `axis`, as NumPy >= 1.20 gives."""
        shape, strides = list(x.shape), list(x.strides)
        for ax, size in zip(axis, window_shape):
            shape[ax] -= size - 1
        return as_strided(x, shape + list(window_shape), strides + [x.strides[ax] for ax in axis],
                          writeable=False)


# ---------------------------------------------------------------- convolution (via im2col)

def im2col(x, k, pad):
    """Every k x k patch of the padded images as one row: (N*H*W, C*k*k) for stride 1."""
    n, c, h, w = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    patches = sliding_window_view(x_pad, (k, k), axis=(2, 3))     # (N, C, H, W, k, k)
    return patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * k * k)


def col2im(d_cols, x_shape, k, pad):
    """The adjoint of im2col: add each patch's gradient back onto the pixels it came from."""
    n, c, h, w = x_shape
    d_patches = d_cols.reshape(n, h, w, c, k, k).transpose(0, 3, 1, 2, 4, 5)
    dx_pad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=d_cols.dtype)
    for i in range(k):
        for j in range(k):
            dx_pad[:, :, i:i + h, j:j + w] += d_patches[:, :, :, :, i, j]
    return dx_pad[:, :, pad:pad + h, pad:pad + w]


def conv_forward(x, w, b, pad=1):
    o, c, k, _ = w.shape
    n, _, h, wd = x.shape
    cols = im2col(x, k, pad)
    out = cols @ w.reshape(o, c * k * k).T + b                       # one matmul
    return out.reshape(n, h, wd, o).transpose(0, 3, 1, 2), (x.shape, cols, w, pad)


def conv_backward(d_out, cache):
    x_shape, cols, w, pad = cache
    o, c, k, _ = w.shape
    d_out = d_out.transpose(0, 2, 3, 1).reshape(-1, o)              # (N*H*W, O)
    dw = (d_out.T @ cols).reshape(w.shape)
    db = d_out.sum(axis=0)
    dx = col2im(d_out @ w.reshape(o, c * k * k), x_shape, k, pad)
    return dx, dw, db


# ---------------------------------------------------------------- ReLU

def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(d_out, x):
    return d_out * (x > 0)


# ---------------------------------------------------------------- max-pool 2 x 2, stride 2

def maxpool_forward(x):
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(n, c, h // 2, w // 2, 4)
    winner = windows.argmax(axis=-1)    # on a tie the first maximum wins, as in the frameworks
    out = np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]
    return out, (x.shape, winner)


def maxpool_backward(d_out, cache):
    (n, c, h, w), winner = cache
    d_windows = np.zeros((n, c, h // 2, w // 2, 4), dtype=d_out.dtype)
    np.put_along_axis(d_windows, winner[..., None], d_out[..., None], axis=-1)
    return (d_windows.reshape(n, c, h // 2, w // 2, 2, 2)
            .transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w))


# ---------------------------------------------------------------- dense (x W^T + b)

def dense_forward(x, w, b):
    return x @ w.T + b, (x, w)


def dense_backward(d_out, cache):
    x, w = cache
    return d_out @ w, d_out.T @ x, d_out.sum(axis=0)


# ---------------------------------------------------------------- softmax cross-entropy

def softmax_cross_entropy(z, y):
    """Mean over the batch of -log softmax(z)[y], and its gradient (softmax(z) - onehot) / N."""
    n = z.shape[0]
    z_shifted = z - z.max(axis=1, keepdims=True)          # same softmax, no overflow
    log_p = z_shifted - np.log(np.exp(z_shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    dz = np.exp(log_p)
    dz[np.arange(n), y] -= 1
    return loss, dz / n


# ---------------------------------------------------------------- the whole network

def forward(params, x):
    """Logits of the network and the caches of every layer."""
    a1, conv_cache = conv_forward(x, params["conv_w"], params["conv_b"])
    h1, relu_cache = relu_forward(a1)
    p1, pool_cache = maxpool_forward(h1)
    flat = p1.reshape(len(x), -1)                          # NCHW flatten: (C, H, W) order
    z, dense_cache = dense_forward(flat, params["dense_w"], params["dense_b"])
    return z, (conv_cache, relu_cache, pool_cache, p1.shape, dense_cache)


def reference_loss_and_grads(params, x, y):
    """Loss of the batch and the gradient of every parameter, in the reference layout."""
    z, (conv_cache, relu_cache, pool_cache, p1_shape, dense_cache) = forward(params, x)
    loss, dz = softmax_cross_entropy(z, y)
    d_flat, d_dense_w, d_dense_b = dense_backward(dz, dense_cache)
    d_h1 = maxpool_backward(d_flat.reshape(p1_shape), pool_cache)
    d_a1 = relu_backward(d_h1, relu_cache)
    _, d_conv_w, d_conv_b = conv_backward(d_a1, conv_cache)
    grads = {"conv_w": d_conv_w, "conv_b": d_conv_b, "dense_w": d_dense_w, "dense_b": d_dense_b}
    return loss, grads


def sgd_step(params, grads, learning_rate):
    return {name: p - learning_rate * grads[name] for name, p in params.items()}


def predict(params, x):
    return forward(params, x)[0]


# ---------------------------------------------------------------- the same network, fast

class FastCNN:
    """The network above fused into one training step for speed, with the same results.

    What makes it fast, compared with the layer-by-layer functions:

    - float32 throughout, and every intermediate array allocated once, in ``__init__``;
      the step writes into them (``out=``) instead of creating new arrays;
    - activations are kept channel-major, (C, N, H, W): the convolution is then one matrix
      product (C_out, C_in*k*k) @ (C_in*k*k, N*H*W) whose result needs no transpose, and
      im2col is k*k contiguous slice copies;
    - max-pooling comes before ReLU (the two commute), on a quarter of the values, as three
      element-wise maxima of strided views; its backward pass sends each window's gradient
      to the first maximum, as ``maxpool_backward`` does;
    - the input image needs no gradient, so the convolution's col2im is skipped;
    - the SGD update is done in place.

    Weights are in the reference layout; ``params`` holds the current ones and ``grads`` the
    gradients of the last step.
    """

    def __init__(self, params, x_shape, learning_rate):
        f32 = np.float32
        self.params = {k: np.array(v, dtype=f32) for k, v in params.items()}
        self.grads = {k: np.empty_like(v) for k, v in self.params.items()}
        self.learning_rate = f32(learning_rate)
        n, c_in, h, w = x_shape
        c, _, k, _ = self.params["conv_w"].shape
        pad = k // 2
        self.shape = (n, c_in, h, w, c, k)
        self.x_pad = np.zeros((c_in, n, h + 2 * pad, w + 2 * pad), f32)  # border stays 0
        self.cols = np.empty((c_in * k * k, n, h, w), f32)                # im2col
        self.a = np.empty((c, n, h, w), f32)                              # conv output
        self.m = np.empty((c, n, h // 2, w // 2), f32)                    # window maxima
        self.flat = np.empty((n, c * (h // 2) * (w // 2)), f32)           # (C, H, W) order
        self.z = np.empty((n, self.params["dense_b"].size), f32)
        self.dz = np.empty_like(self.z)
        self.d_flat = np.empty_like(self.flat)
        self.d_m = np.empty_like(self.m)
        self.d_a = np.empty_like(self.a)
        self.taken = np.empty(self.m.shape, bool)
        self.win = np.empty(self.m.shape, bool)
        self.rows = np.arange(n)

    def step(self, x, y):
        """One SGD step on the batch (x, y); returns the batch's loss before the update."""
        p, g = self.params, self.grads
        n, c_in, h, w, c, k = self.shape
        # convolution: im2col by k*k slice copies, then one matrix product
        self.x_pad[:, :, k // 2:k // 2 + h, k // 2:k // 2 + w] = x.transpose(1, 0, 2, 3)
        for ci in range(c_in):
            for i in range(k):
                for j in range(k):
                    self.cols[(ci * k + i) * k + j] = self.x_pad[ci, :, i:i + h, j:j + w]
        cols = self.cols.reshape(c_in * k * k, -1)
        a = self.a.reshape(c, -1)
        np.matmul(p["conv_w"].reshape(c, -1), cols, out=a)
        a += p["conv_b"][:, None]
        # max-pool 2x2 (the four corners of every window are four strided views), then ReLU
        corners = [self.a[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        m = self.m
        np.maximum(corners[0], corners[1], out=m)
        np.maximum(m, corners[2], out=m)
        np.maximum(m, corners[3], out=m)
        pooled = self.flat.reshape(n, c, h // 2, w // 2)
        np.maximum(m.transpose(1, 0, 2, 3), 0, out=pooled)
        # dense layer
        z = self.z
        np.matmul(self.flat, p["dense_w"].T, out=z)
        z += p["dense_b"]
        # softmax cross-entropy, mean over the batch, and its gradient (softmax - onehot) / n
        z -= z.max(axis=1, keepdims=True)
        dz = self.dz
        np.exp(z, out=dz)
        total = dz.sum(axis=1, keepdims=True)
        loss = float(np.log(total).mean() - z[self.rows, y].mean())
        dz /= total
        dz[self.rows, y] -= 1
        dz *= np.float32(1 / n)
        # dense backward
        np.matmul(dz.T, self.flat, out=g["dense_w"])
        dz.sum(axis=0, out=g["dense_b"])
        np.matmul(dz, p["dense_w"], out=self.d_flat)
        # ReLU and pool backward: each window's gradient goes to its first maximum
        d_m = self.d_m
        np.copyto(d_m, self.d_flat.reshape(n, c, h // 2, w // 2).transpose(1, 0, 2, 3))
        d_m *= m > 0
        taken, win = self.taken, self.win
        taken.fill(False)
        for corner, (i, j) in zip(corners, [(0, 0), (0, 1), (1, 0), (1, 1)]):
            np.equal(corner, m, out=win)
            win &= ~taken
            taken |= win
            np.multiply(d_m, win, out=self.d_a[:, :, i::2, j::2])
        # convolution backward: weights and bias only, the images need no gradient
        d_a = self.d_a.reshape(c, -1)
        np.matmul(d_a, cols.T, out=g["conv_w"].reshape(c, -1))
        d_a.sum(axis=1, out=g["conv_b"])
        # SGD, in place
        for name, param in p.items():
            param -= self.learning_rate * g[name]
        return loss
