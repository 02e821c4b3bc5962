"""Plotting helpers: each takes a matplotlib ``ax`` (or axes) and returns it, labelled and titled.

One module per topic: ``basic`` (clouds, histograms, lines; used from 02 on).
"""
from .basic import plot_clouds, plot_lines, plot_unit_histograms

__all__ = ["plot_clouds", "plot_unit_histograms", "plot_lines"]
