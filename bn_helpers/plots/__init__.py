"""Plotting helpers: each takes a matplotlib ``ax`` (or axes) and returns it, labelled and titled.

One module per topic: ``basic`` (clouds, histograms, lines; used from 02 on).
"""
from .basic import plot_clouds, plot_lines, plot_unit_histograms
from .backward import plot_bn_graph, plot_gradient_flow
from .why_normalize import plot_layer_flow, plot_loss_contours, plot_percentiles

__all__ = ["plot_clouds", "plot_unit_histograms", "plot_lines", "plot_bn_graph", "plot_gradient_flow", "plot_loss_contours", "plot_layer_flow", "plot_percentiles"]
