"""The learner's tools behind `mnist-kit progress`, `hint` and `watch`, and the stage summaries they share."""
