"""Tests for crainpaint.cra_flags: the command-line flags every binary turns into a CRAConfig.

Each test defines the flags on a fresh ``flags.FlagValues`` and parses an argv list, so no global
flag is touched and the expected configs come from ``CRAConfig`` itself, not copied numbers.
"""

import dataclasses

import tensorflow as tf
from absl import flags

from crainpaint import cra, cra_flags


def _config_from_argv(*arguments):
    """The CRAConfig the given command-line flags describe."""
    flag_values = flags.FlagValues()
    cra_flags.define_cra_flags(flag_values)
    flag_values(["program", *arguments])
    return cra_flags.cra_config_from_flags(flag_values)


class CRAFlagsTest(tf.test.TestCase):

    def test_no_flags_give_the_library_defaults(self):
        self.assertEqual(_config_from_argv(), cra.CRAConfig())

    def test_default_preset_gives_the_library_defaults(self):
        self.assertEqual(_config_from_argv("--cra_preset=default"), cra.CRAConfig())

    def test_paper_preset_gives_the_papers_pipeline(self):
        config = _config_from_argv("--cra_preset=paper")
        self.assertEqual(config, cra.CRAConfig.paper())
        self.assertEqual((config.geometry, config.hole_threshold, config.seam,
                          config.residual_top_k), ("pad512", 0.0, "paste", 0))

    def test_single_flags_override_the_preset(self):
        config = _config_from_argv("--cra_preset=paper", "--seam=poisson", "--feather_px=3")
        self.assertEqual(config, cra.CRAConfig.paper(seam="poisson", feather_px=3))
        config = _config_from_argv("--geometry=tile", "--hole_threshold=0.25",
                                   "--residual_sharpness=2")
        self.assertEqual(config, dataclasses.replace(
            cra.CRAConfig(), geometry="tile", hole_threshold=0.25, residual_sharpness=2.0))

    def test_residual_flags_reach_the_config(self):
        config = _config_from_argv("--residual_top_k=2", "--residual_blend=0.5",
                                   "--residual_scale=4", "--residual_candidates=5")
        self.assertEqual(config, dataclasses.replace(
            cra.CRAConfig(), residual_top_k=2, residual_blend=0.5, residual_scale=4,
            residual_candidates=5))

    def test_attention_scale_flag_reaches_the_config_and_is_bounded(self):
        self.assertEqual(_config_from_argv("--attention_scale=40").attention_scale, 40.0)
        self.assertEqual(_config_from_argv("--cra_preset=paper").attention_scale, 10.0)
        self.assertIsNone(_config_from_argv().attention_scale)
        with self.assertRaises(flags.IllegalFlagValueError):
            _config_from_argv("--attention_scale=5000")

    def test_residual_scale_parses_to_an_int(self):
        config = _config_from_argv("--residual_scale=8")
        self.assertIsInstance(config.residual_scale, int)
        self.assertEqual(config.residual_scale, 8)

    def test_raises_invalid_combination_error_naming_residual_top_k(self):
        with self.assertRaisesRegex(ValueError, "residual_top_k"):
            _config_from_argv("--residual_blend=0.5", "--residual_top_k=0")

    def test_raises_on_a_value_outside_the_choices(self):
        with self.assertRaises(flags.IllegalFlagValueError):
            _config_from_argv("--residual_scale=3")

    def test_defines_one_flag_per_config_field(self):
        flag_values = flags.FlagValues()
        cra_flags.define_cra_flags(flag_values)

        fields = [field.name for field in dataclasses.fields(cra.CRAConfig)]
        self.assertIn("feather_px", fields)
        self.assertContainsSubset(fields + ["cra_preset"], list(flag_values))
        for field in fields:
            # Unset means "the preset's value"; the help names both presets' values.
            self.assertIsNone(flag_values[field].default, msg=field)
            self.assertIn("paper", flag_values[field].help, msg=field)

    def test_raises_unknown_preset_error(self):
        with self.assertRaisesRegex(ValueError, "preset"):
            cra_flags.preset_config("fast")


if __name__ == "__main__":
    tf.test.main()
