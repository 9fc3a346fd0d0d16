"""The bodies of the gan-* commands other than training: sample, translate, benchmark,
report, sweep, reproduce and the metric classifier's training."""
