"""The bf16 policy: float32 parameters, optimizer state, BN statistics and losses; bf16 layers.

Tolerances. bfloat16 keeps 8 significant bits (relative spacing 2^-8 = 3.9e-3); through a
few layers and 3 steps we measured metric differences to float32 of 3e-4 .. 4e-3 relative and
cosines of the 3-step parameter updates of 0.94 .. 0.99 (over a few data draws and widths;
here 0.97 classifier, 0.99 DCGAN). We assert
2e-2 relative on metrics and cosine >= 0.85: loose enough for bf16 rounding, tight enough to
catch a policy bug (bf16 parameters lose Adam's ~1e-3 updates on ~1e-1 weights outright).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax import config as C
from genjax.config import ConfigError
from genjax.core.precision import precision_policy
from genjax.core.step import make_train_step
from genjax.families.classifier.network import DigitClassifier
from genjax.families.classifier.objective import Classifier
from genjax.families.gan.dcgan import Discriminator, Generator
from genjax.families.gan.objective import GAN


def dcgan(dtype) -> GAN:
    return GAN(Generator(features=(8,), channels=1, image_size=8, dtype=dtype),
               Discriminator(features=(8,), image_size=8, channels=1, dtype=dtype),
               latent_dim=8, g_optimizer=optax.adam(1e-3, b1=0.5),
               d_optimizer=optax.adam(1e-3, b1=0.5))


def classifier(dtype) -> Classifier:
    return Classifier(DigitClassifier(features=32, dropout=0.3, dtype=dtype), optax.adam(1e-3))


FAMILIES = {"dcgan": (dcgan, 8), "classifier": (classifier, 8)}


def batches(size: int):
    rng = np.random.default_rng(0)
    return [{"image": rng.uniform(-1, 1, (16, size, size, 1)).astype(np.float32),
             "label": rng.integers(0, 10, 16).astype(np.int32)} for _ in range(3)]


def train(objective, data):
    init = jax.jit(objective.init)(jax.random.PRNGKey(0), data[0])
    step = make_train_step(objective, donate=False)
    state, metrics = init, []
    for b in data:
        state, m = step(state, b, jax.random.PRNGKey(1))
        metrics.append(m)
    return init, state, metrics


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def runs(request):
    build, size = FAMILIES[request.param]
    data = batches(size)
    fp32 = train(build(precision_policy("fp32").compute_dtype), data)
    bf16 = train(build(precision_policy("bf16").compute_dtype), data)
    return request.param, data, fp32, bf16


def test_bf16_keeps_params_optimizer_state_statistics_and_losses_in_float32(runs):
    _, _, _, (_, state, metrics) = runs
    floats = [x for x in jax.tree.leaves((state.params, state.opt_state, state.model_state))
              if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
    assert all(v.dtype == jnp.float32 for m in metrics for v in m.values())


def test_bf16_layers_compute_in_bfloat16(runs):
    name, data, _, (_, state, _) = runs
    if name == "dcgan":
        gan = dcgan(jnp.bfloat16)
        module, x = gan.generator, jnp.zeros((4, 8))
        variables = {"params": state.params["generator"], **state.model_state["generator"]}
    else:
        module, x = classifier(jnp.bfloat16).module, jnp.asarray(data[0]["image"])
        variables = {"params": state.params}
    out, inter = module.apply(variables, x, train=False, capture_intermediates=True)
    layer_names = ("Conv", "Dense", "convs", "hidden", "head")  # compact / setup names
    layers = {jax.tree_util.keystr(path): v for path, v in
              jax.tree_util.tree_flatten_with_path(inter["intermediates"])[0]
              if any(n in jax.tree_util.keystr(path) for n in layer_names)}
    assert layers and all(v.dtype == jnp.bfloat16 for v in layers.values()), {
        k: v.dtype for k, v in layers.items()}
    if name == "classifier":
        assert out.dtype == jnp.float32  # logits leave the model in float32


def test_a_few_bf16_steps_stay_close_to_fp32(runs):
    _, _, (init32, state32, m32), (_, state16, m16) = runs
    for a, b in zip(m32, m16, strict=True):
        for k in a:
            assert abs(float(a[k]) - float(b[k])) <= 2e-2 * max(abs(float(a[k])), 1e-3), k

    def update(state):
        return np.concatenate([np.ravel(np.asarray(p) - np.asarray(q)) for p, q in zip(
            jax.tree.leaves(state.params), jax.tree.leaves(init32.params), strict=True)])

    u32, u16 = update(state32), update(state16)
    assert u32 @ u16 / (np.linalg.norm(u32) * np.linalg.norm(u16)) >= 0.85


def test_policy_names():
    assert precision_policy("bf16").cast_input(jnp.ones(2)).dtype == jnp.bfloat16
    assert precision_policy("bf16").cast_input(jnp.ones(2, jnp.int32)).dtype == jnp.int32
    assert precision_policy("fp32").param_dtype == jnp.float32
    with pytest.raises(ValueError, match="unknown precision 'fp16'; choose one of fp32, bf16"):
        precision_policy("fp16")


def build_bf16(name: str):
    """The objective of named config ``name`` with ``precision=bf16``, for its own dataset."""
    from genjax.app.experiment import build_objective
    from genjax.data import dataset_spec, default_data_dir

    config = C.load_config(name)
    C.apply_overrides(config, ["precision=bf16"])
    return build_objective(config, dataset_spec(config.data.name, default_data_dir()))


def test_bf16_is_built_only_for_families_that_apply_it():
    gan = build_bf16("dcgan_mnist")  # gan with model.arch='dcgan'
    assert jnp.dtype(gan.generator.dtype) == jnp.dtype(gan.discriminator.dtype) == jnp.bfloat16
    assert jnp.dtype(build_bf16("classifier_mnist").module.dtype) == jnp.bfloat16
    with pytest.raises(ConfigError, match="family 'vae' computes in fp32 only; use "
                                          "--config.precision=fp32"):
        build_bf16("vae_mnist")
    with pytest.raises(ConfigError, match="model.arch='mlp' computes in float32 only"):
        build_bf16("gan_toy2d")  # MLP modules have no dtype
