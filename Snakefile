# recunlearn: reproduce "Recommendation Unlearning" (RecEraser, WWW 2022) end to end.
# Default: the paper's reproduction (config/config.yaml). Offline demo: --configfile config/demo.yaml


# ---------------------------------------------------------------------------- config
# beside this Snakefile, not in the working directory: with --directory elsewhere a relative path would be skipped
# silently whenever --configfile is given, and the overlay would run on the schema's defaults
configfile: f"{workflow.basedir}/config/config.yaml"


report: "workflow/report/workflow.rst"


# ---------------------------------------------------------------------------- rules
include: "workflow/rules/common.smk"
include: "workflow/rules/data_inputs.smk"
include: "workflow/rules/sharding_inputs.smk"
include: "workflow/rules/unlearning_inputs.smk"
include: "workflow/rules/results_inputs.smk"
include: "workflow/rules/forgetting_inputs.smk"
include: "workflow/rules/user_unlearning_inputs.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sharding.smk"
include: "workflow/rules/tuning.smk"
include: "workflow/rules/unlearning.smk"
include: "workflow/rules/forgetting.smk"
include: "workflow/rules/user_unlearning.smk"
include: "workflow/rules/results.smk"


# ---------------------------------------------------------------------------- banners
onstart:
    print(f"recunlearn: datasets {', '.join(DATASETS)}")


onsuccess:
    print(done_banner())


onerror:
    print("recunlearn: a job failed; its log is named above (add --show-failed-logs to print it)")


# ---------------------------------------------------------------------------- target
rule all:
    default_target: True
    input:
        all_targets(),
