"""``TrainConfig``: everything a training run needs, as one JSON-serialisable dataclass.

An experiment file (``experiments/*.py``) returns one from ``get_config()``; the trainer writes
the resolved config to ``MODEL_DIR/config.json`` and the generator's to
``MODEL_DIR/generator_config.json``.

Stages (a CPU schedule; the model card, "Training", says why):

* ``"reconstruction"``: β = 0, no critic: only Eq. 13 on the coarse and refined outputs, one batch
  per step. Much cheaper (no critic, no second-order gradients, 1 instead of 6 batches per step).
  A documented deviation from the paper, used to warm-start the generator.
* ``"adversarial"``: the paper's Algorithm 1: ``critic_steps`` critic updates (Eq. 9, 5 in the
  paper, 3 in the author's code), each on a fresh batch, then one generator update (Eq. 14) on a
  fresh batch; a step therefore reads ``critic_steps + 1`` batches.
"""

from __future__ import annotations

import dataclasses
import json
import typing

from crainpaint.models import CriticConfig, GeneratorConfig
from crainpaint.system_info import CPUINFO_PATH, has_native_bf16
from crainpaint.training.losses import (DEFAULT_ADVERSARIAL_WEIGHT, DEFAULT_CONTEXT_WEIGHT,
                                        DEFAULT_GRADIENT_PENALTY_WEIGHT, DEFAULT_HOLE_WEIGHT,
                                        RECONSTRUCTION_NORMALIZATIONS)
from data_pipelines import DataConfig, MaskConfig

STAGES = ("reconstruction", "adversarial")
DEFAULT_STEPS_PER_LOOP = 10
MIXED_PRECISION_MODES = ("auto", "float32", "mixed_bfloat16")


@dataclasses.dataclass
class TrainConfig:
    """A training run (paper Sec. 3.5 and 4; defaults are the paper's values).

    Attributes:
        generator: the generator's architecture (its ``input_size`` is metadata: the generator is
            fully convolutional and trains on ``data.image_size`` crops, any multiple of its
            ``cell_size``; the attention grid then has ``image_size / cell_size`` cells per side).
        critic: the critic; its ``input_size`` must equal ``data.image_size`` (adversarial stage).
        data: the input pipeline; ``data.global_batch_size`` is the batch over all replicas.
        stage: ``"reconstruction"`` or ``"adversarial"`` (module docstring).
        critic_steps: critic updates per generator update (Algorithm 1: 5; the author used 3).
        generator_learning_rate / critic_learning_rate: Adam learning rates (1e-4).
        adam_beta_1 / adam_beta_2: Adam betas (0.5, 0.9), as in the author's code.
        gp_weight: σ of Eq. 9 (10, the author's value; the paper gives none).
        adversarial_weight: β of Eq. 14 (1e-4; forced to 0 in the reconstruction stage).
        hole_weight / context_weight: α1 / α2 of Eq. 13 (1 and 1.2).
        reconstruction_normalization: ``"per_pixel"`` or ``"author"`` (see ``losses.py``).
        total_steps: generator updates to reach (the step counter is global across runs of the
            trainer).
        steps_per_loop: the most steps run inside one traced function call between two looks of
            the host (``loop.py``). Checkpoints, summaries, previews and exports still come at
            their exact steps (a loop ends early for them); a time-based checkpoint or a stop
            signal waits for the end of the current loop.
        checkpoint_every_steps: save every N steps (0 = only by time and at the end).
        checkpoint_every_seconds: also save at the end of the first loop after this long has
            passed since the last save (runs on a CPU may end abruptly: save often). Single-worker
            runs only.
        keep_checkpoints: checkpoints kept by the CheckpointManager.
        summary_every_steps: TensorBoard scalars and the progress line every N steps.
        image_summary_every_steps: TensorBoard image grids every N steps (0 = never).
        export_generator_every_steps: write float16 generator weights to
            ``MODEL_DIR/generator_weights/`` every N steps (0 = only at the end of a run).
        mixed_precision: ``"float32"``, ``"mixed_bfloat16"`` or ``"auto"`` (= mixed_bfloat16 only
            when the CPU computes bf16 natively: the ``amx_bf16`` or ``avx512_bf16`` flag of
            /proc/cpuinfo; the README's training benchmark measures the gain; none without them).
        generator_ema_decay: d of an exponential moving average of the generator's weights,
            updated after every generator step and exported next to them (0 = none, the paper;
            an addition, see ``weight_average.py``).
        seed: seeds the weight initialisation and the interpolation weights α of Eq. 9 (the data
            stream has its own ``data.seed``).
    """

    generator: GeneratorConfig = dataclasses.field(default_factory=GeneratorConfig)
    critic: CriticConfig = dataclasses.field(default_factory=CriticConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    stage: str = "adversarial"
    critic_steps: int = 5
    generator_learning_rate: float = 1e-4
    critic_learning_rate: float = 1e-4
    adam_beta_1: float = 0.5
    adam_beta_2: float = 0.9
    gp_weight: float = DEFAULT_GRADIENT_PENALTY_WEIGHT
    adversarial_weight: float = DEFAULT_ADVERSARIAL_WEIGHT
    hole_weight: float = DEFAULT_HOLE_WEIGHT
    context_weight: float = DEFAULT_CONTEXT_WEIGHT
    reconstruction_normalization: str = "per_pixel"
    total_steps: int = 100_000
    steps_per_loop: int = DEFAULT_STEPS_PER_LOOP
    checkpoint_every_steps: int = 1000
    checkpoint_every_seconds: float = 300.0
    keep_checkpoints: int = 3
    summary_every_steps: int = 50
    image_summary_every_steps: int = 500
    export_generator_every_steps: int = 1000
    mixed_precision: str = "auto"
    generator_ema_decay: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.generator, dict):
            self.generator = GeneratorConfig.from_dict(self.generator)
        if isinstance(self.critic, dict):
            self.critic = CriticConfig(**self.critic)
        if isinstance(self.data, dict):
            self.data = _dataclass_from_dict(DataConfig, self.data)
        self.validate()

    def validate(self):
        """Raises ValueError with what is wrong and how to fix it."""
        if self.stage not in STAGES:
            raise ValueError(f"TrainConfig.stage must be one of {STAGES}, got {self.stage!r}.")
        if self.mixed_precision not in MIXED_PRECISION_MODES:
            raise ValueError(f"TrainConfig.mixed_precision must be one of "
                             f"{MIXED_PRECISION_MODES}, got {self.mixed_precision!r}.")
        if self.reconstruction_normalization not in RECONSTRUCTION_NORMALIZATIONS:
            raise ValueError(f"TrainConfig.reconstruction_normalization must be one of "
                             f"{RECONSTRUCTION_NORMALIZATIONS}, got "
                             f"{self.reconstruction_normalization!r}.")
        for name in ("critic_steps", "total_steps", "steps_per_loop", "keep_checkpoints",
                     "summary_every_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}.")
        for name in ("checkpoint_every_steps", "image_summary_every_steps",
                     "export_generator_every_steps", "checkpoint_every_seconds", "gp_weight",
                     "adversarial_weight", "hole_weight", "context_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}.")
        if not 0.0 <= self.generator_ema_decay < 1.0:
            raise ValueError(f"TrainConfig.generator_ema_decay must be in [0, 1) (0 = no weight "
                             f"average), got {self.generator_ema_decay}.")
        cell = self.generator.cell_size
        if self.data.image_size % cell:
            raise ValueError(
                f"data.image_size ({self.data.image_size}) must be a multiple of the generator's "
                f"attention cell ({cell} px = generator.input_size / generator.attention_grid); "
                f"e.g. 256 or 512 with the paper's 16-px cell.")
        if self.stage == "adversarial" and self.critic.input_size != self.data.image_size:
            raise ValueError(
                f"critic.input_size ({self.critic.input_size}) must equal data.image_size "
                f"({self.data.image_size}) in the adversarial stage (the critic's dense layer "
                f"depends on it); set critic=CriticConfig(input_size={self.data.image_size}, ...).")

    @property
    def batches_per_step(self):
        """Batches one step reads: 1 (reconstruction) or critic_steps + 1 (Algorithm 1)."""
        return 1 if self.stage == "reconstruction" else self.critic_steps + 1

    @property
    def effective_adversarial_weight(self):
        """β actually used: 0 in the reconstruction stage."""
        return 0.0 if self.stage == "reconstruction" else self.adversarial_weight

    def resolved_mixed_precision(self, cpuinfo_path=CPUINFO_PATH):
        """``"float32"`` or ``"mixed_bfloat16"`` (``"auto"`` looks for native bf16 in the CPU)."""
        if self.mixed_precision != "auto":
            return self.mixed_precision
        return "mixed_bfloat16" if cpu_has_native_bf16(cpuinfo_path) else "float32"

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values):
        return _dataclass_from_dict(cls, values)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))

    def replace(self, **changes):
        """A copy with top-level fields changed (``dataclasses.replace``), validated."""
        return dataclasses.replace(self, **changes)


def cpu_has_native_bf16(cpuinfo_path=CPUINFO_PATH):
    """True when the CPU flags list AMX or AVX512-BF16, where mixed_bfloat16 trains faster."""
    return has_native_bf16(cpuinfo_path)


class TrainingSetupError(Exception):
    """A run that cannot start as configured (its data, its folder, its warm-start weights);
    the message says what is wrong and how to fix it."""


def _dataclass_from_dict(cls, values):
    """Builds a (nested) dataclass from JSON-like values: dicts → dataclasses, lists → tuples."""
    hints = typing.get_type_hints(cls)
    known = {field.name: field for field in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"Unknown {cls.__name__} fields {sorted(unknown)}; known: "
                         f"{sorted(known)}.")
    arguments = {}
    for name, value in values.items():
        hint = hints.get(name)
        if isinstance(value, dict) and dataclasses.is_dataclass(hint):
            value = (hint.from_dict(value) if hint is GeneratorConfig
                     else _dataclass_from_dict(hint, value))
        elif isinstance(value, list):
            value = tuple(value)
        arguments[name] = value
    return cls(**arguments)


__all__ = ["DEFAULT_STEPS_PER_LOOP", "MIXED_PRECISION_MODES", "STAGES", "CriticConfig",
           "DataConfig", "GeneratorConfig", "MaskConfig", "TrainConfig", "TrainingSetupError",
           "cpu_has_native_bf16"]
