"""PSNR and SSIM of a frame against its ground truth (the numbers scripts/evaluate_psnr.py gave before).

PSNR is over all pixels and the three channels of 8-bit RGB, 10 log10(255^2 / MSE), capped at `PSNR_CAP`
dB so that identical frames give a finite number that means and JSON can hold. SSIM is Wang et al. 2004
(11x11 Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03) per RGB channel, averaged. PSNR, a mean squared
error, rewards a blurred average of the likely frames as much as a sharp plausible one; SSIM, which compares
local structure, tells them apart better.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Identical frames have an MSE of 0; 100 dB stands for them (an 8-bit frame of a million pixels that differs by
# one level in one value is at 113 dB, so the cap only changes results no one could see).
PSNR_CAP = 100.0


def psnr(fake: np.ndarray, real: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of the same shape, at most `PSNR_CAP`."""
    if fake.shape != real.shape:
        raise ValueError(f"psnr: images differ in shape, {fake.shape} vs {real.shape}")
    mse = float(np.mean((fake.astype(np.float64) - real.astype(np.float64)) ** 2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


def ssim(fake: np.ndarray, real: np.ndarray) -> float:
    """Mean SSIM of two uint8 `(H, W, 3)` images (Gaussian window 11x11, sigma 1.5; per channel, averaged)."""
    if fake.shape != real.shape:
        raise ValueError(f"ssim: images differ in shape, {fake.shape} vs {real.shape}")
    a, b = fake.astype(np.float64), real.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b, cov = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2, blur(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def psnr_ssim(fakes: np.ndarray, reals: np.ndarray,
              which: tuple[str, ...] = ("psnr", "ssim")) -> dict[str, list[float]]:
    """Per-frame PSNR and / or SSIM of uint8 `(T, H, W, 3)` videos: {'psnr': [T values], 'ssim': [T values]}."""
    functions = {"psnr": psnr, "ssim": ssim}
    return {name: [functions[name](f, r) for f, r in zip(fakes, reals)] for name in which}
