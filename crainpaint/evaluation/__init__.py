"""The evaluation library, one idea per module.

* ``cases``: the photos and holes (folders, seeded generated masks in hole-area bins, the
  held-out crops of the bundled photo);
* ``methods``: the fills compared (crainpaint with CRA, its network-only up-sampling, OpenCV
  Telea and Navier–Stokes, the generator at full resolution), run on the zeroed hole and pasted;
* ``metrics``: in-hole L1, PSNR, MS-SSIM and the texture metrics of one composite;
* ``texture``: the texture statistics of a fill; ``attention``: the CRA's attention diagnostics;
* ``inception``: FID and Inception Score from a Keras InceptionV3;
* ``runner``: a whole run and its JSON; ``report``: its summary tables;
* ``removal``: object removal on photos without ground truth; ``sheets``: comparison sheets.

``experiments/evaluate.py`` and ``experiments/remove_objects.py`` are the command-line front ends.
"""
