"""Pure loss functions shared by several families (imported downward, never from a family).

* :mod:`genjax.losses.adversarial`: GAN loss pairs, WGAN-GP and R1 penalties.
* :mod:`genjax.losses.likelihood`: Bernoulli / Gaussian log-likelihoods, reconstruction losses.
"""
