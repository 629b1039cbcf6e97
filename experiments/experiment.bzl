"""One paper experiment = one JSON config; this macro makes its targets.

    scratchdet_experiment(name = "bn_head_lr0.01", config = "bn_head_lr0.01.json")

gives
  :<name>             a hermetic cc_binary with the config embedded:
                      bazel run //experiments/<table>:<name> -- --profile mini|paper|smoke
  :<name>_regression  (when a baseline exists) a test that trains on the regression profile
                      and fails when mAP drops below the measured baseline minus its tolerance.
  :<name>_mini_regression  the same against a baseline measured on the mini profile, which
                      generalises to unseen test images (the ci profile memorises its
                      training images).
"""

def _regression_test(name, embedded, baseline, size):
    native.cc_test(
        name = name,
        srcs = [embedded],
        deps = ["//scratchdet/engine:experiment_main"],
        data = [baseline],
        args = ["--regression", "$(location %s)" % baseline],
        size = size,
        # Alone on the machine: two 2-thread OpenMP trainings on 2 cores spin-wait on each
        # other; the mini regression took over 11 minutes that way instead of about 2.
        tags = ["exclusive"],
    )

def scratchdet_experiment(
        name,
        config,
        baseline = None,
        mini_baseline = None,
        regression_size = "large"):
    embedded = name + "_config.cc"
    native.genrule(
        name = name + "_embed",
        srcs = [config],
        outs = [embedded],
        cmd = ("(echo '// Generated from $< by experiments/experiment.bzl.'; " +
               "echo 'extern const char kExperimentConfig[] = R\"SDCFG('; " +
               "cat $<; echo ')SDCFG\";') > $@"),
    )
    native.cc_binary(
        name = name,
        srcs = [embedded],
        deps = ["//scratchdet/engine:experiment_main"],
        visibility = ["//visibility:public"],
    )
    if baseline:
        _regression_test(name + "_regression", embedded, baseline, regression_size)
    if mini_baseline:
        # A full mini run (about 9.5 minutes for ScratchDet300): Bazel's "enormous" timeout
        # (60 minutes) leaves room for a slower CI machine.
        _regression_test(name + "_mini_regression", embedded, mini_baseline, "enormous")
