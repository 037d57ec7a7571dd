"""Training code: the loop, the schedule, the optimizers and saving/restoring a run. Nothing in models/,
data/ or util/ imports from here."""
