"""Plots ADA's p and r_t = E[sign D(x)] over training from the study's metrics.jsonl files.

    python experiments/small_data/plot_ada.py sweeps/small_data experiments/small_data/ada_p.png
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(run_dir: str) -> tuple[list[int], list[float], list[float]]:
    steps, p, r = [], [], []
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            if "ada_p" in row:
                steps.append(row["step"])
                p.append(row["ada_p"])
                r.append(row["d_real_sign"])
    return steps, p, r


def main(sweep_dir: str, out: str) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for name in sorted(os.listdir(sweep_dir)):
        run_dir = os.path.join(sweep_dir, name)
        if "ada.pipeline=bgc" not in name or not os.path.isfile(
                os.path.join(run_dir, "metrics.jsonl")):
            continue
        steps, p, r = series(run_dir)
        # Trial directories spell data.split=train[:10%] as train__10__.
        fraction = name.split("train__")[1].split("__")[0] + "%" if "train__" in name else "100%"
        lecam = " + LeCam" if "lecam" in name else ""
        seed = name.rsplit("seed=", 1)[1]
        label = f"{fraction}{lecam}, seed {seed}"
        style = "-" if fraction == "10%" else "--"
        top.plot(steps, p, style, label=label)
        bottom.plot(steps, r, style, label=label)
    bottom.axhline(0.6, color="black", linewidth=1.2, label="target 0.6")
    top.set_ylabel("ADA p")
    bottom.set_ylabel("r_t = E[sign D(x)]")
    bottom.set_xlabel("step")
    top.legend(fontsize=7, ncol=2)
    bottom.legend(handles=bottom.lines[-1:], fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


if __name__ == "__main__":
    main(*sys.argv[1:3])
