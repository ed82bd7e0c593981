"""Reference-equivalence suite: the same experiment through the authors' code and ours.

`python -m scripts.reference --help` lists the commands; docs/fidelity.md says what each
comparison proves, against which commit of which repository, and how to rerun it.
"""
