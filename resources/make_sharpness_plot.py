"""Draw the README's edge-of-stability figure: resources/sharpness_spirals.png (issue 17).

Run: QT_QPA_PLATFORM=offscreen python resources/make_sharpness_plot.py
Trains the 2-32-32-1 tanh network with MSE on the bundled spirals by full-batch SGD, lr 0.1,
4000 steps, the sharpness every 25 steps (what `python main.py slice --data spirals --lr 0.1
--steps 4000` does), and plots the sharpness with the line 2/lr above the full-batch loss.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

LR = 0.1
STEPS = 4000


def main() -> None:
    """Train, plot, export."""
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter

    from explorer.core.network import NetProblem, NetSpec, TrainSettings, train
    from explorer.io.dataset_csv import load_features, network_data_path

    data = load_features(network_data_path("spirals"))
    problem = NetProblem(NetSpec(2, (32, 32), "tanh", "mse"), data.features, data.labels, 0)
    run = train(problem, TrainSettings("sgd", LR, steps=STEPS, sharpness_every=25))

    app = pg.mkQApp()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    layout = pg.GraphicsLayoutWidget()
    layout.resize(900, 640)
    top = layout.addPlot(row=0, col=0, title="Sharpness (top Hessian eigenvalue) against 2/lr")
    top.setLabel("left", "sharpness")
    top.plot(run.sharpness[:, 0], run.sharpness[:, 1], pen=pg.mkPen("#1f77b4", width=2),
             name="sharpness")
    dashed = pg.mkPen("#d62728", width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
    top.addItem(pg.InfiniteLine(2.0 / LR, angle=0, pen=dashed))
    label = pg.TextItem("2/lr = 20", color="#d62728", anchor=(0, 1))
    label.setPos(50, 2.0 / LR)
    top.addItem(label)
    bottom = layout.addPlot(row=1, col=0, title="Full-batch training loss (MSE)")
    bottom.setLabel("left", "loss")
    bottom.setLabel(
        "bottom", "step (full-batch SGD, lr 0.1, 2-32-32-1 tanh on 300 spirals points)")
    bottom.setLogMode(y=True)
    steps = np.arange(len(run.loss))
    bottom.plot(steps, run.loss, pen=pg.mkPen("#2ca02c", width=1.5))
    bottom.setXLink(top)
    layout.show()
    app.processEvents()
    exporter = ImageExporter(layout.scene())
    exporter.parameters()["width"] = 900
    exporter.export(str(HERE / "sharpness_spirals.png"))
    layout.close()


if __name__ == "__main__":
    main()
