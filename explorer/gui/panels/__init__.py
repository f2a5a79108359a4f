"""The side panels: function, controls, runs table, gradient inspector."""
