"""`python -m deepal_bench` runs the Hydra app, like the `deepal-bench` console script."""

from deepal_bench.cli.run import main

if __name__ == "__main__":
    main()
