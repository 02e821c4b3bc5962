"""Plotting helpers: each takes a matplotlib ``ax`` (or axes) and returns it, labelled and titled.

One module per topic: ``basic`` (clouds, histograms, lines; used from 02 on).
"""
from .style import CONDITION_COLORS, condition_color
from .basic import plot_clouds, plot_lines, plot_seed_bands, plot_unit_histograms
from .backward import plot_bn_graph, plot_gradient_flow
from .why_normalize import plot_layer_flow, plot_loss_contours, plot_percentiles, plot_unit_drift
from .variants import plot_batch_size_accuracy, plot_norm_axes, plot_xhat_histograms
from .in_practice import plot_device_stats, plot_fold_outputs, plot_parallel_accuracy

__all__ = ["CONDITION_COLORS", "condition_color", "plot_clouds", "plot_unit_histograms", "plot_lines", "plot_seed_bands", "plot_bn_graph", "plot_gradient_flow", "plot_loss_contours", "plot_layer_flow", "plot_percentiles", "plot_unit_drift", "plot_norm_axes", "plot_batch_size_accuracy", "plot_xhat_histograms", "plot_device_stats", "plot_parallel_accuracy", "plot_fold_outputs"]
from .practice import plot_batch_coupling, plot_layer_histograms, plot_seed_points, plot_train_test_gap, plot_update_ratios  # noqa: E402
__all__ += ["plot_layer_histograms", "plot_update_ratios", "plot_batch_coupling", "plot_train_test_gap", "plot_seed_points"]
from .conv import plot_conv_sweep, plot_generalization  # noqa: E402
__all__ += ["plot_conv_sweep", "plot_generalization"]
from .loop import plot_loop_curves  # noqa: E402
__all__ += ["plot_loop_curves"]
