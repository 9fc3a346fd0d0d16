"""Named evaluation protocols, as StyleGAN2-ADA names its metrics: each name fixes the metric,
the number of generated samples, the reference split (and whether all of it is used), the
extractor and its resize mode, so a number can be set beside a published one.

    fid50k_full   fd of 50,000 samples against the whole training split, InceptionV3,
                  pytorch-fid's resize (StyleGAN2-ADA's fid50k_full; pytorch-fid's FID)
    kid50k_full   kid (x1, not x1000), the same samples and reference
    pr50k3_full   improved precision and recall with k = 3, the same samples and reference
    is50k         Inception Score of 50,000 samples, 10 splits
    fid10k        fd of 10,000 samples against the whole test split
    fid50k_full_clean, fid10k_clean
                  the fd protocols with clean-fid's `clean` resize (PIL bicubic)
    fd_dinov2     fd of 50,000 samples against the whole training split in DINOv2 ViT-L/14
                  features (dgm-eval's FD_DINOv2, EDM2's)
    kd_dinov2, dc_dinov2
                  kid, and density and coverage (k = 5), of the same samples and features

Samples are the first n of one fixed stream (see gan_jax.runs.evaluation), so protocols that
share an extractor and resize mode share one pass over the samples, and a smaller protocol's
samples are a prefix of a larger one's.
"""

from __future__ import annotations

import dataclasses

from gan_jax.config import ConfigError, did_you_mean


@dataclasses.dataclass(frozen=True)
class Protocol:
    metric: str  # A name of gan_jax.eval.images.IMAGE_METRICS.
    num_samples: int
    split: str | None  # The reference split (all of it); None: the samples alone.
    extractor: str = "inception_v3"
    resize: str = "legacy_pytorch"
    # The published numbers it is comparable with (docs/evaluation.md's table).
    comparable: str = ""

    def settings(self) -> dict[str, object]:
        """What eval.json records of it."""
        return {"metric": self.metric, "num_samples": self.num_samples,
                "reference_split": self.split or "none (the samples alone)",
                "reference": "all of the split" if self.split else "none",
                "extractor": self.extractor, "resize": self.resize}


PROTOCOLS: dict[str, Protocol] = {
    "fid50k_full": Protocol("fd", 50_000, "train", comparable=(
        "StyleGAN2-ADA's and StyleGAN3's fid50k_full, R3GAN's and StudioGAN's train-split "
        "FID")),
    "kid50k_full": Protocol("kid", 50_000, "train",
                            comparable="StyleGAN2-ADA's kid50k_full (it reports KID x 10^3)"),
    "pr50k3_full": Protocol("pr", 50_000, "train", comparable=(
        "StyleGAN2-ADA's pr50k3_full in design; it measures in VGG16 features, this one in "
        "Inception's")),
    "is50k": Protocol("is", 50_000, None, comparable="StyleGAN2-ADA's is50k, BigGAN's IS"),
    "fid10k": Protocol("fd", 10_000, "test", comparable=(
        "the test-split FID of SNGAN- and BigGAN-era papers (10k vs test)")),
    "fid50k_full_clean": Protocol("fd", 50_000, "train", resize="clean",
                                  comparable="clean-fid's `clean` FID, 50k vs train"),
    "fid10k_clean": Protocol("fd", 10_000, "test", resize="clean",
                             comparable="clean-fid's `clean` FID, 10k vs test"),
    "fd_dinov2": Protocol("fd", 50_000, "train", extractor="dinov2", resize="pil_bicubic",
                          comparable="dgm-eval's FD_DINOv2 and EDM2's FD_DINOv2 (50k vs train)"),
    "kd_dinov2": Protocol("kid", 50_000, "train", extractor="dinov2", resize="pil_bicubic",
                          comparable="KID in DINOv2 features, the KD dgm-eval reports (x1 here)"),
    "dc_dinov2": Protocol("dc", 50_000, "train", extractor="dinov2", resize="pil_bicubic",
                          comparable="dgm-eval's density and coverage in DINOv2 features "
                                     "(k = 5)"),
}


def parse_protocols(text: str, key: str = "eval.protocols") -> tuple[str, ...]:
    """`"fid50k_full,kid50k_full"` -> the names, each checked (with a did-you-mean)."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name not in PROTOCOLS:
            longer = [known for known in PROTOCOLS if known.startswith(name)]
            hint = (f"; did you mean {longer[0]!r}?" if longer
                    else did_you_mean(name, list(PROTOCOLS)))
            raise ConfigError(f"{key}: unknown protocol {name!r}{hint} (known: "
                              f"{', '.join(PROTOCOLS)})")
    return names
