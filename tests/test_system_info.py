"""crainpaint.system_info: the CPU probe every benchmark and the training run log print."""

import tensorflow as tf

from crainpaint import system_info


class SystemInfoTest(tf.test.TestCase):

    def test_reads_the_flags_of_the_first_processor(self):
        cpuinfo = self.create_tempfile(content="processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n"
                                               "processor\t: 1\nflags\t\t: fpu\n")
        self.assertEqual(system_info.cpu_flags(cpuinfo.full_path), {"fpu", "avx2", "amx_bf16"})
        self.assertTrue(system_info.has_native_bf16(cpuinfo.full_path))

    def test_no_native_bf16_without_amx_or_avx512_bf16(self):
        cpuinfo = self.create_tempfile(content="flags\t: fpu avx2 avx512f\n")
        self.assertFalse(system_info.has_native_bf16(cpuinfo.full_path))
        self.assertEqual(system_info.cpu_flags("/nonexistent/cpuinfo"), set())

    def test_description_names_the_processor_the_cpus_and_only_flags_it_has(self):
        description = system_info.cpu_description(flags=("avx2", "no_such_flag"))
        self.assertStartsWith(description, system_info.cpu_model() + " (")
        self.assertIn(f"({system_info.usable_cpu_count()} CPUs", description)
        self.assertNotIn("no_such_flag", description)


if __name__ == "__main__":
    tf.test.main()
