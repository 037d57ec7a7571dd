"""The evaluation metrics of scripts/evaluate.py and scripts/compare_runs.py (docs/evaluation.md).

frames.py      results and ground-truth frames matched by name per sequence; the copy-frame baseline
psnr_ssim.py   PSNR (capped at 100 dB) and SSIM per frame
flow_metrics.py  flow-warping error with the forward-backward occlusion check and its ground-truth floor; tOF
perceptual.py  LPIPS and tLP (the `lpips` package, a local backbone file)
fid.py         FID over frames (torch-fidelity's Inception, a local weights file)
i3d.py, fvd.py the I3D network and FVD with StyleGAN-V's protocol (a local TorchScript or state_dict file)
weights.py     which flag names each weights file, and where to get it
scoring.py     every metric of a set of runs, per frame, per sequence and overall
report.py      markdown tables and JSON
arguments.py   the flags the two scripts share

Nothing here imports the training code, the datasets or the options (tests/test_architecture.py).
"""
