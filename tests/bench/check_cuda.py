"""The CUDA check of batched runs, for a machine with a GPU (not collected by pytest).

Run: python tests/bench/check_cuda.py
It computes a Himmelblau basin map on the CPU and on CUDA, checks both find the four known
minima with the same shares, and times a 512 x 512 map of 200 Adam steps on CUDA against a bare
batched torch.optim loop on the same device. Exit code 0 when everything matches.
"""

from __future__ import annotations

import sys
import time

import torch

from explorer.core.basin import basin_map
from explorer.core.expression import parse
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings


def main() -> int:
    """Compare CPU and CUDA maps, then time the big map on CUDA."""
    if not torch.cuda.is_available():
        print("no CUDA device here")
        return 1
    preset = get_preset("himmelblau")
    objective = parse(preset.formula).evaluate
    settings = RunSettings(optimizer="adam", lr=0.1, steps=200, tol=0.0)
    maps = {
        device: basin_map(objective, preset.domain, settings, n=64, device=device,
                          known_minima=preset.minima)
        for device in ("cpu", "cuda")
    }
    ok = True
    for device, result in maps.items():
        found = [(round(m.x, 6), round(m.y, 6), round(m.share, 4)) for m in result.minima]
        print(f"{device}: {found}, matches known: {result.matches_known}")
        ok &= len(result.minima) == 4 and result.matches_known is True
    cpu_labels, cuda_labels = maps["cpu"].labels, maps["cuda"].labels
    same = float((cpu_labels == cuda_labels).mean())
    print(f"labels equal on {same:.4%} of the starts")
    ok &= same > 0.99
    n = 512
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    basin_map(objective, preset.domain, settings, n=n, device="cuda")
    torch.cuda.synchronize()
    t_map = time.perf_counter() - t0
    xs = torch.linspace(preset.domain[0], preset.domain[1], n, dtype=torch.float64)
    ys = torch.linspace(preset.domain[2], preset.domain[3], n, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    p = torch.stack((gx.reshape(-1), gy.reshape(-1)), dim=1).cuda().requires_grad_(True)
    optimizer = torch.optim.Adam([p], lr=0.1)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(settings.steps):
        optimizer.zero_grad()
        objective(p[:, 0], p[:, 1]).sum().backward()
        optimizer.step()
    torch.cuda.synchronize()
    t_bare = time.perf_counter() - t0
    print(f"512x512, 200 Adam steps on {torch.cuda.get_device_name()}: map {t_map:.3f} s, "
          f"bare loop {t_bare:.3f} s, ratio {t_map / t_bare:.2f}")
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
