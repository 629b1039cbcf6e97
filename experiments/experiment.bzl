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

def scratchdet_table(baselines = {}, mini_baselines = {}):
    """The BUILD file of a paper table: every <name>.json of the package is an experiment.

        scratchdet_table(baselines = {"resnet18": "//experiments/baselines:table_c_resnet18.json"})

    makes scratchdet_experiment(name, config = name + ".json") for each JSON file, with the
    regression test of the experiments named in `baselines` / `mini_baselines`, and the
    filegroup :configs (every JSON of the table) for the test that resolves each experiment
    under every profile.
    """
    configs = native.glob(["*.json"])
    names = [config[:-len(".json")] for config in configs]
    for key in list(baselines.keys()) + list(mini_baselines.keys()):
        if key not in names:
            fail("baseline for '%s': no %s.json in this table" % (key, key))
    for name in names:
        scratchdet_experiment(
            name = name,
            config = name + ".json",
            baseline = baselines.get(name),
            mini_baseline = mini_baselines.get(name),
        )
    native.filegroup(
        name = "configs",
        srcs = configs,
        visibility = ["//tests:__subpackages__"],
    )
