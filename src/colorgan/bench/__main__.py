"""`python -m colorgan.bench`."""

from colorgan.bench import main

main()
