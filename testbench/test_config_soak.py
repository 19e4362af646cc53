"""The soak's memory bound (testbench/config_soak.py, docs/hardening.md "Soak"): a leak of a few KB per
image fails it; resident memory that dips and comes back (a block freed and allocated again) does not.

Run by ctest as /usr/bin/python3 test_config_soak.py."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import config_soak  # noqa: E402

MIB = 1 << 20


class MemoryGrowth(unittest.TestCase):
    def test_a_block_freed_and_allocated_again_is_no_growth(self):
        # soak run 1092: 186.6 MiB at the first progress line (a 17.6 MiB block just freed), 204.3 MiB
        # from the next line on, flat to the end
        samples = [(32, 186 * MIB)] + [(n, 204 * MIB) for n in (32, 64, 64, 96, 128, 146)]
        (n0, r0), (n1, r1), leak = config_soak.memory_growth(samples)
        self.assertFalse(leak)
        self.assertEqual((r0, r1), (204 * MIB, 204 * MIB))

    def test_a_leak_of_some_kilobytes_per_image_fails(self):
        samples = [(n, 100 * MIB + 8192 * n) for n in range(20, 1001, 100)]  # 8 KB per image
        (n0, r0), (n1, r1), leak = config_soak.memory_growth(samples)
        self.assertTrue(leak)
        self.assertEqual((n0, n1), (420, 920))  # the first half's last sample, the last one

    def test_a_leak_starting_after_the_first_half_fails(self):
        samples = [(n, 100 * MIB) for n in range(0, 501, 50)] + [(n, 100 * MIB + 8192 * (n - 500))
                                                                  for n in range(550, 1001, 50)]
        self.assertTrue(config_soak.memory_growth(samples)[2])

    def test_allocator_noise_within_the_slack_passes(self):
        samples = [(n, 100 * MIB + (MIB if n % 64 else 0)) for n in range(0, 257, 32)]
        self.assertFalse(config_soak.memory_growth(samples)[2])


if __name__ == "__main__":
    unittest.main()
