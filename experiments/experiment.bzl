"""One paper experiment = one JSON config; this macro makes its targets.

    scratchdet_experiment(name = "bn_head_lr0.01", config = "bn_head_lr0.01.json")

gives
  :<name>             a hermetic cc_binary with the config embedded:
                      bazel run //experiments/<table>:<name> -- --profile mini|paper|smoke
  :<name>_regression  (when a baseline exists) a test that trains on the regression profile
                      and fails when mAP drops below the measured baseline minus its tolerance.
"""

def scratchdet_experiment(name, config, baseline = None, regression_size = "large"):
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
        native.cc_test(
            name = name + "_regression",
            srcs = [embedded],
            deps = ["//scratchdet/engine:experiment_main"],
            data = [baseline],
            args = ["--regression", "$(location %s)" % baseline],
            size = regression_size,
        )
