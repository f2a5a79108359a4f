"""What draws: contour map, 3D surface, loss plot and their overlays."""
