"""The pure training computation: the experiment builder and its checks, the objective, both
train steps and their shared update, augmentation, packing, the train state, optimizers,
devices and vectorised seeds. Nothing here reads or writes files, logs or pictures."""
