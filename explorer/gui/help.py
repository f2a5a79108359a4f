"""The short help (F1) and the About text."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from explorer import __version__

HELP_HTML = """
<h2>Gradient Descent Explorer</h2>
<p>Type a function f(x, y), click where to start, and watch an optimiser from
<code>torch.optim</code> walk downhill. Every path has one colour, the same in every part of the
window.</p>

<h3>Function (left, the <i>Setup</i> tab)</h3>
<p>Pick a <b>preset</b> or type <b>f(x, y)</b> as in Python: <code>+ - * / **</code>,
<code>sin cos exp log sqrt abs tanh</code>&hellip;, <code>pi</code> and <code>e</code>.
Press <b>Enter</b> (or Apply) to draw it. A mistake is shown in red with a caret under the
place it was found; the old landscape stays until the new function is valid. The
<b>domain</b> sets the x and y ranges that are drawn. Drawing a new function removes the old
paths.</p>

<h3>Contour map and 3D surface (top)</h3>
<p>The colours show the height f (the colour bar gives the values); white lines join points
of equal height. <b>Click</b> on either view to start a descent from there with the current
settings. <b>Shift-click</b> adds a start (a white cross) without running it; <b>Run</b>
(Space) then starts all of them together. Hover over the map to read f and its gradient
at the mouse. Drag to pan or rotate, use the wheel to zoom. For steep functions such as
Rosenbrock the colours use a log scale (View &gt; Log colour scale).</p>

<h3>Gradient inspector (the <i>Inspector</i> tab, beside <i>Setup</i>)</h3>
<p>Press <b>I</b> (View &gt; Inspect gradient) and click a point on the contour map, or hold
<b>Ctrl</b> and move the mouse over the map, to inspect that point instead of starting a
descent. The inspector shows f, the partial derivatives worked out by hand (by sympy) with
their values beside torch autograd's, and the Hessian: its eigenvalues, its condition number
and <b>2 / &lambda;max</b>, the largest learning rate with which plain gradient descent does
not diverge there (<b>Use as learning rate</b> sets it). On the map, &nabla;f (red) points
uphill and &minus;&nabla;f (blue) downhill; <b>Show &minus;&nabla;f field</b> draws small
downhill arrows everywhere. The round plot shows the slope in every direction: it is lowest
along &minus;&nabla;f, which is why descent subtracts the gradient. Select a run in the table to
compare, step by step, the decrease of f that the gradient predicted (lr&middot;|&nabla;f|&sup2;)
with the decrease that happened, and what its optimiser remembers at the step on the map: a
white arrow at the path's head for the step its momentum (or Adam's first moment) carries, a
green cross whose arms are its step per unit gradient along x and along y (Adam's is longer
along the flat axis of a ravine), and the numbers here (View &gt; Optimiser state hides the
marks). Press <b>I</b> again to go back to clicking for descents.</p>

<h3>Optimiser and run (left)</h3>
<p><b>Method</b>: which optimiser takes the steps. <b>Learning rate</b>: the step size (slider
on a log scale, or type the exact number). The rows below it are that optimiser's own settings.
<b>Max steps</b> and the <b>gradient tolerance</b> decide when a path stops; <b>Climb
uphill</b> maximises f instead. <b>Gradient noise</b> adds seeded random noise of that size to
every gradient, the way a minibatch gradient scatters around the true one: the path jitters,
and the same <b>seed</b> gives the same path again (0 = off). <b>Path time</b> is how long each
path takes to draw, however many steps it has (<b>instant</b> at 0: each step as soon as it is
computed); it does not change the numbers.</p>

<h3>Buttons and keys</h3>
<table cellspacing="4">
<tr><td><b>I</b></td><td>Inspect mode: a click inspects the gradient (Ctrl+hover: live)</td></tr>
<tr><td><b>Space</b></td><td>Run the pending starts, or pause / resume</td></tr>
<tr><td><b>Right arrow</b></td><td>Pause and move every path one step</td></tr>
<tr><td><b>Stop</b></td><td>Stop every path where it is</td></tr>
<tr><td><b>R</b></td><td>Reset: remove the paths, keep their starts to run them again</td></tr>
<tr><td><b>Delete</b></td><td>Remove the selected path, or clear everything</td></tr>
<tr><td><b>Ctrl+Z</b></td><td>Undo a change of function: the old one comes back with its
runs</td></tr>
<tr><td><b>Ctrl+E</b></td><td>Export the trajectories to a CSV file</td></tr>
<tr><td><b>Ctrl+Shift+E</b></td><td>Export a plot as SVG or PNG (or right-click the
plot)</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>Quit</td></tr>
</table>
<p>The keys work anywhere except while you type in a text or number field.</p>

<h3>Runs table and loss plot (bottom)</h3>
<p>The table lists every path: its start, optimiser, steps so far, current f, the length of
the gradient, and its status (running, converged, diverged and why, max steps). Select a row to
highlight its path everywhere. The loss plot shows f against the step number (tick
<i>log y</i> to see the speed of convergence as a straight line).</p>

<h3>Figures and animations (File menu)</h3>
<p><b>Export figure…</b> (Ctrl+Shift+E, or right-click a plot) saves a plot as SVG or PNG, with
its axis labels, legend and colour bar. <b>Export animation…</b> writes the contour map (and the
loss plot) with the paths growing step by step as a GIF or MP4 for slides: choose the size, the
frame rate and how many steps each frame moves on; Cancel leaves no file behind. With a model
on data or a network on screen the data view goes beside them (untick <i>Data view</i> to leave
it out): the model's curve, or the network's decision regions, at each frame's step. In the
neural-network view, <b>Animation…</b> beside Train does the same for the trained network's path
on its slice, the slice's loss at the path dotted beside its true loss.</p>

<h3>The lesson (Help &gt; Lesson, Ctrl+Shift+L)</h3>
<p>The tutorial's questions, step by step, in a strip above the maps: what the gradient is, why
descent subtracts it, how the step size matters, whether the start matters, whether we always
find the global minimum and, last, a small network trained on the spirals whose sharpness climbs
to 2/lr. Each step sets up the function, the runs (or the network) and the tab it talks about;
<b>Next</b> and <b>Back</b> (Alt+Right, Alt+Left) move between steps, and <b>Set up again</b>
brings a step back after you have explored. <b>Open lesson…</b> reads a tutor's own lesson
file.</p>

<h3>Tools menu</h3>
<p>Each tool opens as a tab beside <i>Setup</i>: <i>Sweep</i>, <i>Basins</i> and
<i>Race</i>.</p>
<p><b>Learning-rate sweep</b> (Ctrl+L, or <b>Sweep…</b> beside the learning rate): runs the
chosen optimiser from one start (the last point clicked, or type x and y) with 20 to 50
learning rates spaced on a log scale, in the background, and plots the final f and the steps
taken against the learning rate. Red crosses mark the rates that diverged; the dashed line is
2&nbsp;/&nbsp;&lambda;<sub>max</sub> at the start, beyond which plain gradient descent diverges.
<b>Use best learning rate</b> puts the best one (lowest final f) into the controls.</p>
<p><b>Basins of attraction</b> (Ctrl+B): does the start point matter? Every point of an
N&nbsp;&times;&nbsp;N grid (64 by default, up to 512) is descended with the controls' optimiser
(the learning rate and max steps can be changed in the tool), in the background; <b>Cancel</b>
stops it. The contour map is then coloured by the minimum each start ended in, one colour per
minimum, numbered on the map; black: the descent diverged; grey: it ran out of steps first.
The contour lines stay on top; tick <b>Show the basin map</b> and move <b>Opacity</b> to see
more or less of the landscape. The table gives each minimum's x, y and f and the share of start
points that ended there (&#9733;: a global minimum, the lowest f found), the summary the share
that reached a global minimum and, for a preset, whether it is the known one. <b>Save map as
PNG</b> writes the map alone, as <code>python main.py basin --png</code> does.</p>
<p><b>Optimiser race</b> (Ctrl+Shift+R): list optimisers, each with its own learning rate
(<b>Tune</b> picks the best of 12 learning rates from the race's starts, so the race is fair).
<b>Start race</b> runs them all from the same starts (the waiting Shift-click starts, or the
starts of the paths on screen) with the same step budget, one colour per optimiser, side by
side in every view. The leaderboard ranks them by mean final f (a tie within 1e-10 goes to
the fewer steps), with the steps until every start reached the tolerance and the distance to
the nearest known minimum (presets only). <b>Animation…</b> under the leaderboard writes the
race's paths alone growing step by step, as File &gt; Export animation… does; <code>python
main.py race</code> runs the same race on the command line.</p>
"""

ABOUT_HTML = f"""
<h3>Gradient Descent Explorer {__version__}</h3>
<p>See gradient-based optimisation: type f(x, y), click start points, watch
<code>torch.optim</code> descend.</p>
<p>Built with PyTorch (autograd and optimisers), PySide6 (Qt) and pyqtgraph.</p>
"""


def help_dialog(parent: QWidget, title: str) -> QDialog:
    """The help window: the text above, links opening in the browser, and Close."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    text = QTextBrowser()
    text.setHtml(HELP_HTML)
    text.setOpenExternalLinks(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(620, 640)
    return dialog


class HelpWindows:
    """Help > Help (F1) and Help > About: the help window is made once and shown again."""

    def __init__(self, parent: QWidget, title: str) -> None:
        self._parent = parent
        self._title = title
        self._dialog: QDialog | None = None

    def show_help(self) -> QDialog:
        """Show the short help on each part of the window."""
        if self._dialog is None:
            self._dialog = help_dialog(self._parent, f"{self._title}: help")
        self._dialog.show()
        self._dialog.raise_()
        return self._dialog

    def show_about(self) -> None:
        """The program's name, version and what it is built with."""
        QMessageBox.about(self._parent, f"About {self._title}", ABOUT_HTML)

    def close(self) -> None:
        """Close the help window if it is open (the main window is closing)."""
        if self._dialog is not None:
            self._dialog.close()
