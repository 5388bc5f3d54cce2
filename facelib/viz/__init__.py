"""Plotting and ipywidgets helpers used by the notebooks (the logic they show lives in the package)."""
