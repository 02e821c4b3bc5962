"""The seed's interactive views as ipywidgets; each view's logic is a plain, tested function.

One module per assignment: ``forward`` (02: the Interactive Scatter Plot and
the Step-by-Step Math view).
"""
from .forward import (ScatterView, Step, StepByStepView, parse_batch, scatter_clouds, step_by_step,
                      steps_to_html)
from .backward import GradientFlowView, gradient_flow_curves
from .why_normalize import LayerFlowView, layer_flow_curves

__all__ = ["gradient_flow_curves", "GradientFlowView", "scatter_clouds", "ScatterView", "parse_batch", "Step", "step_by_step", "steps_to_html",
           "StepByStepView", "layer_flow_curves", "LayerFlowView"]
