"""Where a generator training step spends its time: forward + backward of each part.

Times, on one random 512² image (batch 1, the bundled model's training setting) with one mask
of the training distribution (``--mask pixels``: 20 % of the pixels at random, so that every
attention cell is a hole cell), the whole generator, the coarse network (at 256²), the refine
network, and inside the refine network the Attention Computing Module (ACM), each Attention
Transfer Module (ATM) level and the first encoder block, each as its own ``tf.function``
(gradient with respect to its input, so every backward op runs). It is a guide to what to
optimise, not a benchmark of the training loop (that is ``benchmark_training.py``). Run with nothing else on the CPU:

    python experiments/profile_generator.py                   # bf16 where the CPU has it
    python experiments/profile_generator.py --precision float32
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seconds_per_call(function, repeats):
    function()
    function()
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def gradient_of_mean(fn, *inputs):
    """A tf.function computing d mean(fn(inputs)) / d inputs[0]."""
    import tensorflow as tf

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(inputs[0])
            output = fn(*inputs)
            output = output[0] if isinstance(output, (tuple, list)) else output
            loss = tf.reduce_mean(tf.cast(output, tf.float32))
        return tape.gradient(loss, inputs[0])
    return step


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", default="auto",
                        choices=["auto", "float32", "mixed_bfloat16"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--mask", default="training", choices=["training", "pixels"],
                        help="training: one mask of the training distribution (MaskConfig()); "
                             "pixels: 20%% of the pixels at random, so every cell is a hole cell.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the training mask.")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    from crainpaint.models import Generator, GeneratorConfig
    from crainpaint.models.generator import grid_hole_mask
    from crainpaint.training.config import TrainConfig
    from crainpaint.system_info import cpu_description

    precision = TrainConfig(mixed_precision=args.precision).resolved_mixed_precision()
    keras.mixed_precision.set_global_policy(precision)
    generator = Generator(GeneratorConfig(kernel_initializer="gated_he")).build_for_size()
    refine = generator.refine
    tf.random.set_seed(0)
    size = args.size
    image = tf.random.uniform([1, size, size, 3], -1.0, 1.0)
    if args.mask == "training":
        from data_pipelines.masks import random_mask
        mask = random_mask(tf.constant([args.seed, 0]), size, size)[tf.newaxis]
    else:  # Every cell holds hole pixels: the attention modules' worst case.
        mask = tf.cast(tf.random.uniform([1, size, size, 1]) > 0.8, tf.float32)
    grid = grid_hole_mask(mask, tf.constant([size // generator.config.cell_size] * 2))
    refine_input = tf.random.uniform([1, size, size, 4])

    @tf.function
    def features():
        half = refine._chain(refine.encoder_half, refine_input)
        quarter = refine._chain(refine.encoder_quarter, half)
        return half, quarter, refine._chain(refine.dilated,
                                            refine._chain(refine.encoder_eighth, quarter))

    half, quarter, bottleneck = features()
    scores = refine.attention(bottleneck, grid)

    def whole(image):
        coarse, refined, _ = generator((image, mask), training=True)
        return tf.cast(refined, tf.float32) + tf.cast(coarse, tf.float32)

    parts = [
        ("generator (coarse + refine)", gradient_of_mean(whole, image)),
        (f"coarse network ({size // 2}²)", gradient_of_mean(
            lambda x: generator.coarse(x, training=True),
            tf.random.uniform([1, size // 2, size // 2, 4]))),
        (f"refine network ({size}²)", gradient_of_mean(
            lambda x: refine((x, grid), training=True), refine_input)),
        (f"  ACM on {tuple(bottleneck.shape[1:])}", gradient_of_mean(
            lambda x: refine.attention(x, grid), bottleneck)),
        (f"  ATM eighth on {tuple(bottleneck.shape[1:])}", gradient_of_mean(
            lambda x: refine.transfer_eighth(x, scores, grid), bottleneck)),
        (f"  ATM quarter on {tuple(quarter.shape[1:])}", gradient_of_mean(
            lambda x: refine.transfer_quarter(x, scores, grid), quarter)),
        (f"  ATM half on {tuple(half.shape[1:])}", gradient_of_mean(
            lambda x: refine.transfer_half(x, scores, grid), half)),
        ("  encoder, first block", gradient_of_mean(
            lambda x: refine._chain(refine.encoder_half, x), refine_input)),
    ]
    hole_cells = float(tf.reduce_mean(grid))
    print(f"{cpu_description()}; {precision}; {size}², batch 1; {args.mask} mask: "
          f"{float(tf.reduce_mean(mask)):.0%} of pixels, {hole_cells:.0%} of attention cells; "
          f"forward + backward, mean of {args.repeats} calls after 2 warm-up calls")
    print()
    print("| part | s per call |")
    print("|---|---|")
    for name, function in parts:
        print(f"| {name} | {seconds_per_call(function, args.repeats):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
