"""The jobs: what each Snakemake rule script calls (the only layer besides ``run`` that knows ``Job`` and
``RunSpec`` and reads or writes artefacts by path). ``sharding``: pretraining, partitions, sub-models, aggregators;
``tuning``: the validation tuner's jobs.
"""
