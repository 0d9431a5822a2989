import sys

from lobutils.runner.cli import main

sys.exit(main())
