"""The Qt-free engine: models, images, attacks, sweeps, saliency, results and figures.

Nothing under ``visualizer.core`` may import Qt; ``tests/test_core_is_qt_free.py`` checks it.
"""
