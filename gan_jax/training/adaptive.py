"""The probability that ADA augments, or APA deceives, with: fixed, scheduled, or adapted to
D's overfitting (Karras et al. 2020's controller, which APA shares).

Adaptive: every D update adds r = E[sign D(x_real)] over its real batch (averaged over
devices, so every device holds the same numbers); after every `interval` train steps, p moves
by sign(mean r - target) * batch * interval / (kimg * 1000), so that it could cross [0, 1] in
`kimg` thousand images, and is clipped to [0, 1). Its state ({"p", "signs", "count"}) is
running state of the discriminator, kept in D's model state under the controller's name, so it
is checkpointed and a resumed run continues exactly.

APA (Jiang et al. 2021): with probability p, an example of D's real batch is replaced by a
generated one (`deceive`), drawn for it with its own latent (and the real example's label).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
State = dict[str, Array]
# The largest p: just below 1 (NumPy: importing the library must compile nothing, or JAX
# fixes its compilation-cache choice before a config can switch it off).
P_MAX = float(np.nextafter(np.float32(1.0), np.float32(0.0)))


@dataclasses.dataclass(frozen=True)
class Controller:
    """One probability's settings; `schedule(step) -> p` when fixed and scheduled."""

    name: str  # "ada" or "apa": where its state and metrics live
    p: float  # fixed, or the adaptive one's start
    target: float = 0.0  # 0: fixed
    interval: int = 4
    kimg: float = 500.0
    batch_size: int = 1
    schedule: Callable[[Array], Array] | None = None
    # Whether p adapts to `target`; None: whether target > 0 (given when target is traced).
    adaptive: bool | None = None

    def __post_init__(self):
        if self.adaptive is None:
            object.__setattr__(self, "adaptive", bool(self.target > 0))

    def initial_state(self) -> State | None:
        if not self.adaptive:
            return None
        # Separate arrays: a donated state may not hold one buffer twice.
        return {"p": jnp.full((), self.p, jnp.float32), "signs": jnp.zeros((), jnp.float32),
                "count": jnp.zeros((), jnp.float32)}

    def value(self, state: State | None, step: Array) -> Array:
        """p at train step `step`."""
        if self.adaptive:
            return state["p"]
        if self.schedule is not None:
            return jnp.asarray(self.schedule(step), jnp.float32)
        return jnp.asarray(self.p, jnp.float32)

    def observe(self, state: State | None, real_logits: Array,
                mean_over_devices: Callable[[Any], Any]) -> State | None:
        """The state after a D update whose real logits are `real_logits`."""
        if not self.adaptive:
            return state
        sign = mean_over_devices(jnp.mean(jnp.sign(real_logits.astype(jnp.float32))))
        return {**state, "signs": state["signs"] + sign, "count": state["count"] + 1.0}

    def adjust(self, state: State | None, step: Array) -> State | None:
        """The state at the end of train step `step`: p moved after every `interval` steps."""
        if not self.adaptive:
            return state
        rate = self.batch_size * self.interval / (self.kimg * 1000.0)

        def moved() -> State:
            r_t = state["signs"] / jnp.maximum(state["count"], 1.0)
            p = jnp.clip(state["p"] + jnp.sign(r_t - self.target) * rate, 0.0, P_MAX)
            zero = jnp.zeros((), jnp.float32)
            return {"p": p.astype(jnp.float32), "signs": zero, "count": zero}

        return jax.lax.cond((step + 1) % self.interval == 0, moved, lambda: state)

    def metrics(self, state: State | None, step: Array, signs: Array) -> dict[str, Array]:
        """Its p this step and the step's mean sign of D's real logits (r_t)."""
        return {f"{self.name}_p": self.value(state, step), f"{self.name}_rt": signs}


def deceive(real: Array, pseudo: Array, replace: Array) -> Array:
    """APA: the rows of `real` where `replace` holds, replaced by those of `pseudo` (generated
    images made for the same labels as the real ones, so labels stay as they are)."""
    mask = replace.reshape((-1,) + (1,) * (real.ndim - 1))
    return jnp.where(mask, pseudo.astype(real.dtype), real)
