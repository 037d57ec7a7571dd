"""Command-line options: the one place that holds every default (see base/train/test_options.py)."""
