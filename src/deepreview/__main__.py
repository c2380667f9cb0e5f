"""`python -m deepreview`."""

from deepreview.cli import main

main()
