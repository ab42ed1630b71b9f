"""DiffWave's denoiser against a PyTorch forward of the same layers, and its receptive field
against the closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.nn.diffwave import DiffWaveNet


def small(**kw):
    return DiffWaveNet(residual_channels=8, num_layers=4, dilation_cycle=3, time_dim=16,
                       time_features=32, **kw)


def randomised(params, key):
    """Every weight random (the output layer included, zero at init), so all paths count."""
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(tree, [0.3 * jax.random.normal(k, p.shape)
                                     for k, p in zip(keys, leaves, strict=True)])


def test_output_starts_at_zero_and_sees_exactly_its_receptive_field():
    model = small()
    x = jax.random.normal(jax.random.PRNGKey(0), (1, 200))
    t = jnp.array([7])
    params = model.init(jax.random.PRNGKey(1), x, t)["params"]
    np.testing.assert_array_equal(np.asarray(model.apply({"params": params}, x, t)), 0.0)
    params = randomised(params, jax.random.PRNGKey(2))
    apply = jax.jit(lambda x: model.apply({"params": params}, x, t))
    base = np.asarray(apply(x))
    changed = np.asarray(apply(x.at[0, 100].add(1.0)))
    moved = np.flatnonzero(np.abs(changed - base)[0] > 0)
    half = sum(2 ** (i % 3) for i in range(4))  # dilations 1, 2, 4, 1
    assert model.receptive_field() == 2 * half + 1 == 17
    assert moved.min() == 100 - half and moved.max() == 100 + half


def test_labels_need_a_conditional_model():
    model = small()
    x, t = jnp.zeros((2, 32)), jnp.zeros((2,), jnp.int32)
    with pytest.raises(ValueError, match="unconditional"):
        model.init(jax.random.PRNGKey(0), x, t, jnp.zeros((2,), jnp.int32))
    with pytest.raises(ValueError, match=r"waveforms \(batch, samples\)"):
        model.init(jax.random.PRNGKey(0), x[..., None], t)


def torch_diffwave(torch, params, num_layers, cycle, time_dim, labels_rows):
    """The same network in plain PyTorch (channels-first Conv1d, Linear), weights copied."""
    nn, F = torch.nn, torch.nn.functional

    def conv(p, dilation=1):
        kernel = np.asarray(p["kernel"])  # (k, in, out) -> (out, in, k)
        m = nn.Conv1d(kernel.shape[1], kernel.shape[2], kernel.shape[0], dilation=dilation,
                      padding=dilation * (kernel.shape[0] - 1) // 2)
        m.weight.data = torch.tensor(kernel.transpose(2, 1, 0).copy())
        m.bias.data = torch.tensor(np.asarray(p["bias"]))
        return m

    def dense(p):
        kernel = np.asarray(p["kernel"])
        m = nn.Linear(*kernel.shape)
        m.weight.data = torch.tensor(kernel.T.copy())
        m.bias.data = torch.tensor(np.asarray(p["bias"]))
        return m

    def forward(x, t, label):
        half = time_dim // 2
        freqs = torch.exp(-np.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
        args = t.double()[:, None] * freqs[None]
        emb = torch.cat([torch.cos(args), torch.sin(args)], 1).float()
        step = F.silu(dense(params["step_2"])(F.silu(dense(params["step_1"])(emb))))
        h = F.relu(conv(params["input"])(x[:, None]))
        cond = None
        if labels_rows:
            cond = torch.tensor(np.asarray(params["label"]["embedding"]))[label]
        skips = 0
        for i in range(num_layers):
            y = h + dense(params[f"step_proj_{i}"])(step)[:, :, None]
            y = conv(params[f"dilated_{i}"], 2 ** (i % cycle))(y)
            if cond is not None:
                y = y + dense(params[f"label_proj_{i}"])(cond)[:, :, None]
            gate, filt = torch.chunk(y, 2, dim=1)
            y = conv(params[f"out_proj_{i}"])(torch.sigmoid(gate) * torch.tanh(filt))
            residual, skip = torch.chunk(y, 2, dim=1)
            h = (h + residual) / np.sqrt(2.0)
            skips = skips + skip
        out = F.relu(conv(params["skip"])(skips / np.sqrt(num_layers)))
        return conv(params["output"])(out)[:, 0]

    return forward


@pytest.mark.parametrize("num_classes", [None, 10])
def test_matches_a_pytorch_forward(num_classes):
    torch = pytest.importorskip("torch")
    model = small(num_classes=num_classes)
    x = jax.random.normal(jax.random.PRNGKey(3), (3, 64))
    t = jnp.array([0, 13, 999])
    label = None if num_classes is None else jnp.array([0, 10, 4])  # 10: the null label
    params = model.init(jax.random.PRNGKey(4), x, t, label)["params"]
    params = randomised(params, jax.random.PRNGKey(5))
    ours = np.asarray(model.apply({"params": params}, x, t, label))
    forward = torch_diffwave(torch, params, 4, 3, 16, num_classes)
    with torch.no_grad():
        theirs = forward(torch.tensor(np.asarray(x)), torch.tensor(np.asarray(t)),
                         None if label is None else torch.tensor(np.asarray(label))).numpy()
    assert np.abs(theirs).max() > 0.1
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
