"""Run the colorgan benchmarks (same as `python -m colorgan.bench`); writes benchmarks/RESULTS.md."""

from colorgan.bench import main

if __name__ == "__main__":
    main()
