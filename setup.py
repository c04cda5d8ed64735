"""Packaging for crainpaint, a TensorFlow 2 / Keras 3 reproduction of HiFill.

HiFill: "Contextual Residual Aggregation for Ultra High-Resolution Image Inpainting"
(Yi et al., CVPR 2020). Install for development with `make install`, which pins the versions
CI runs through constraints.txt.
"""

from setuptools import find_packages, setup

setup(
    name="crainpaint",
    version="0.1.0",
    description=(
        "Contextual Residual Aggregation (HiFill, CVPR 2020) for ultra high-resolution image "
        "inpainting, in TensorFlow 2 and Keras 3."
    ),
    python_requires=">=3.10",
    packages=find_packages(
        include=["crainpaint", "crainpaint.*", "data_pipelines", "data_pipelines.*"]
    ),
    package_data={
        # Released weights with their config (json) and model card (md).
        "crainpaint": ["pretrained/*", "pretrained/demo/*", "app/static/*"],
        # Hole shapes the mask generator samples from.
        "data_pipelines": ["shapes/*.png"],
    },
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy",
        "opencv-python-headless",
        "absl-py",
        "tensorflow-datasets",
        # tensorflow-datasets imports it when preparing a dataset but does not declare it.
        "importlib_resources",
    ],
    extras_require={
        "test": ["pytest", "scipy"],
        # The paint-and-inpaint page (python -m crainpaint.app); playwright drives a system
        # chromium in its browser test.
        "app": ["starlette", "uvicorn", "playwright"],
        # `python -m crainpaint.beam` (docs/beam.md). Beam caps protobuf below 7; TF 2.21 takes
        # 6.31 and up, so constraints.txt pins a protobuf both accept.
        "beam": ["apache-beam"],
        # python -m crainpaint.export --format onnx|tflite, and crainpaint.portable's runtimes.
        "export": ["tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"],
    },
    entry_points={
        "console_scripts": ["crainpaint = crainpaint.__main__:main"],
    },
)
